import { describe, expect, it } from 'vitest';
import { violations, type Exchange } from './support/checks.js';
import { collectionOf, exampleOf, fillPath, type OpenApiDoc } from './support/openapi.js';
import { secretsIn } from './support/secrets.js';

/**
 * The reliability suite passes only if its oracles can fail: these cases show that each one
 * flags what it is meant to flag (and accepts the contract's own shapes).
 */
const x = (over: Partial<Exchange>): Exchange => ({ fn: 'f', method: 'GET', path: '/things', status: 200, contentType: 'application/json', text: '{}', json: {}, label: 't', ...over });
const problem = (status: number) => ({ type: 'urn:lattice-lock:problem:x', title: 'X', status, detail: 'd', instance: 'req-1' });

describe('response oracle', () => {
  it('accepts a problem+json error and an OpenAI-shaped /v1 error', () => {
    expect(violations(x({ status: 404, contentType: 'application/problem+json', json: problem(404), text: JSON.stringify(problem(404)) }))).toEqual([]);
    const v1 = { ...problem(429), error: { message: 'm', type: 'rate_limit_error', code: null, param: null } };
    expect(violations(x({ path: '/v1/chat/completions', status: 429, json: v1, text: JSON.stringify(v1) }))).toEqual([]);
  });

  it('flags a 5xx, an HTML error page, a bare JSON error, a stack trace and a /v1 error without the OpenAI object', () => {
    expect(violations(x({ status: 500, contentType: 'application/problem+json', json: problem(500), text: JSON.stringify(problem(500)) }))).toHaveLength(1);
    expect(violations(x({ status: 400, contentType: 'text/html', json: undefined, text: '<pre>SyntaxError</pre>' })).length).toBeGreaterThan(0);
    expect(violations(x({ status: 422, json: { message: 'bad' }, text: '{"message":"bad"}' })).length).toBeGreaterThan(0);
    expect(violations(x({ status: 200, text: 'Error\n    at handler (/app/functions/x.ts:12:3)' }))).toHaveLength(1);
    expect(violations(x({ path: '/v1/models', status: 401, contentType: 'application/problem+json', json: problem(401), text: JSON.stringify(problem(401)) })).length).toBeGreaterThan(0);
    expect(violations(x({ status: 403, contentType: 'application/problem+json', json: problem(401), text: '' })).length).toBeGreaterThan(0);
  });
});

describe('OpenAPI walkers', () => {
  const doc: OpenApiDoc = {
    paths: {},
    components: { schemas: { Kind: { type: 'string', enum: ['schema', 'sheriff'] } } },
  };

  it('builds a schema-valid example: required members, enums, formats, bounds, references', () => {
    const schema = {
      type: 'object',
      required: ['name', 'kind', 'count', 'version_id', 'slug'],
      properties: {
        name: { type: 'string', minLength: 3, maxLength: 20 },
        kind: { $ref: '#/components/schemas/Kind' },
        count: { type: 'integer', minimum: 5 },
        version_id: { type: 'string', format: 'uuid' },
        slug: { type: 'string', pattern: '^[a-z0-9-]+$' },
        notes: { type: 'string' },
      },
    };
    const v = exampleOf(doc, schema, { idFor: (f) => (f === 'version_id' ? 'the-version' : undefined) }) as Record<string, unknown>;
    expect(v).toMatchObject({ kind: 'schema', count: 5, version_id: 'the-version' });
    expect(v.name).toMatch(/^.{3,20}$/);
    expect(v.slug).toMatch(/^[a-z0-9-]+$/);
    expect(v).not.toHaveProperty('notes');
  });

  it('names the collection of each path parameter and fills paths safely', () => {
    expect(collectionOf('/projects/{id}/errors/{eid}/resolve', 'eid')).toBe('errors');
    expect(collectionOf('/projects/{id}/errors/{eid}/resolve', 'id')).toBe('projects');
    expect(fillPath('/p/{id}', { id: '../x y' })).toBe('/p/..%2Fx%20y');
  });
});

describe('secret collection', () => {
  it('finds secrets sent and received, and the TOTP secret inside its URI', () => {
    const found = secretsIn([
      x({ json: { key: 'llk_live_abcdefgh', fingerprint: '…1234' }, requestBody: JSON.stringify({ password: 'hunter2-hunter2' }) }),
      x({ json: { otpauth_uri: 'otpauth://totp/L:a?secret=JBSWY3DPEHPK3PXP&issuer=L', recovery_codes: ['aaaa-bbbb-cccc'] } }),
    ]);
    expect(found).toEqual(expect.arrayContaining(['llk_live_abcdefgh', 'hunter2-hunter2', 'JBSWY3DPEHPK3PXP', 'aaaa-bbbb-cccc']));
    expect(found).not.toContain('…1234');
  });
});
