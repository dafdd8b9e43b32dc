import { describe, expect, it } from 'vitest';
import { violations, type Exchange } from '../support/reliability/checks.js';
import { collectionOf, exampleOf, fillPath, type OpenApiDoc, type Route } from '../support/reliability/openapi.js';
import { secretsIn } from '../support/reliability/secrets.js';
import { anonymousVerdict, badTokenVerdict, coverageVerdict, declaredProtected, idorVerdict, logLeaks, oversizeVerdict, roleVerdict, verbatimVerdict, type RolePolicy } from '../support/reliability/verdicts.js';

/**
 * The reliability suite passes only if its oracles can fail: these cases show that each one
 * flags what it is meant to flag (and accepts the contract's own shapes).
 */
const x = (over: Partial<Exchange>): Exchange => ({ fn: 'f', method: 'GET', path: '/things', status: 200, contentType: 'application/json', text: '{}', json: {}, label: 't', ...over });
const problem = (status: number) => ({ type: 'urn:lattice-lock:problem:x', title: 'X', status, detail: 'd', instance: 'req-1' });

describe('response oracle: each check alone', () => {
  it('accepts a problem+json error and an OpenAI-shaped /v1 error', () => {
    expect(violations(x({ status: 404, contentType: 'application/problem+json', json: problem(404), text: JSON.stringify(problem(404)) }))).toEqual([]);
    const v1 = { ...problem(429), error: { message: 'm', type: 'rate_limit_error', code: null, param: null } };
    expect(violations(x({ path: '/v1/chat/completions', status: 429, json: v1, text: JSON.stringify(v1) }))).toEqual([]);
  });

  const openAi = { message: 'm', type: 'invalid_request_error', code: null, param: null };
  // Each answer breaks exactly one rule and is right in every other respect.
  it.each([
    ['a 5xx', /server error/, x({ status: 500, contentType: 'application/problem+json', json: problem(500), text: JSON.stringify(problem(500)) })],
    ['a stack trace', /stack trace in body/, x({ status: 200, text: 'Error\n    at handler (/app/functions/x.ts:12:3)' })],
    ['a problem body under the wrong content-type', /: error content-type text\/html/, x({ status: 400, contentType: 'text/html', json: problem(400), text: JSON.stringify(problem(400)) })],
    ['problem+json that is not a problem (status differs)', /not a problem body/, x({ status: 403, contentType: 'application/problem+json', json: problem(401), text: JSON.stringify(problem(401)) })],
    ['problem+json without detail', /not a problem body/, x({ status: 422, contentType: 'application/problem+json', json: { ...problem(422), detail: undefined }, text: '{}' })],
    ['a /v1 error as problem+json', /\/v1 error content-type/, x({ path: '/v1/models', status: 401, contentType: 'application/problem+json', json: { ...problem(401), error: openAi }, text: '{}' })],
    ['a /v1 error without the OpenAI object', /without OpenAI error object/, x({ path: '/v1/models', status: 401, json: problem(401), text: JSON.stringify(problem(401)) })],
    ['a /v1 error without problem members', /without problem members/, x({ path: '/v1/chat/completions', status: 400, json: { error: openAi }, text: JSON.stringify({ error: openAi }) })],
  ])('flags %s, and nothing else', (_name, rule, exchange) => {
    const found = violations(exchange);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(rule);
  });
});

const route = (method: string, template: string, op: Record<string, unknown> = {}): Route => ({
  fn: 'f',
  method,
  template,
  op,
  pathParams: [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
});
const ok = (path: string, status = 200) => x({ path, status, json: {}, text: '{}' });
const refused = (path: string, status: number) => x({ path, status, contentType: 'application/problem+json', json: problem(status), text: JSON.stringify(problem(status)) });
/** The sweep's whole judgement of one observation: the response checks of every exchange plus the sweep's own verdict. */
const judged = (exchanges: Exchange[], verdict: string[]) => [...exchanges.flatMap(violations), ...verdict];

const POLICY: RolePolicy = { adminOnly: { auth: ['GET /audit'] }, viewerReadOnly: { fn: 'projects', readLikePost: /\/(check|verify)$/ } };

describe('sweep verdicts: each fails on a broken answer, alone', () => {
  it('IDOR: another org\'s object must be 404; 403/422 only when the owner gets the same', () => {
    const r = route('GET', '/projects/{id}');
    expect(judged([refused('/projects/b', 404)], idorVerdict('projects', r, 404))).toEqual([]);
    expect(judged([refused('/projects/b', 422), refused('/projects/b', 422)], idorVerdict('projects', r, 422, 422))).toEqual([]);
    const leaked = judged([ok('/projects/b')], idorVerdict('projects', r, 200));
    expect(leaked).toEqual([expect.stringMatching(/org A got 200 on org B's object/)]);
    const existence = judged([refused('/projects/b', 403), ok('/projects/b')], idorVerdict('projects', r, 403, 200));
    expect(existence).toEqual([expect.stringMatching(/existence leaks/)]);
  });

  it.each([
    ['a higher role refused where a lower passed', 'projects', route('GET', '/projects'), { viewer: 403, member: 200, admin: 403 }, /admin refused \(403\) where member got 200/],
    ['an admin-only route open to a member', 'auth', route('GET', '/audit'), { viewer: 403, member: 200, admin: 200 }, /admin-only, but viewer 403, member 200/],
    ['an admin-only route closed to the admin', 'auth', route('GET', '/audit'), { viewer: 403, member: 403, admin: 403 }, /admin refused$/],
    ['a viewer changing a project', 'projects', route('POST', '/projects'), { viewer: 201, member: 201, admin: 201 }, /a viewer changed something \(201\)/],
  ] as const)('role matrix flags %s, and nothing else', (_name, fn, r, statuses, rule) => {
    const exchanges = Object.values(statuses).map((s) => (s < 400 ? ok(r.template, s) : refused(r.template, s)));
    const found = judged(exchanges, roleVerdict(fn, r, statuses, POLICY));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(rule);
  });

  it('role matrix accepts the rules kept: viewers read, members write, admins administer', () => {
    expect(roleVerdict('projects', route('POST', '/projects'), { viewer: 403, member: 201, admin: 201 }, POLICY)).toEqual([]);
    expect(roleVerdict('projects', route('POST', '/projects/{id}/check'), { viewer: 200, member: 200, admin: 200 }, POLICY)).toEqual([]);
    expect(roleVerdict('auth', route('GET', '/audit'), { viewer: 403, member: 403, admin: 200 }, POLICY)).toEqual([]);
  });

  it('SQL verbatim: a value read back changed (escaped, trimmed) is flagged; an omitted field is not judged', () => {
    const r = route('POST', '/projects');
    const sent = { name: "x' OR '1'='1", description: '😀 é' };
    expect(verbatimVerdict('projects', r, sent, { name: "x' OR '1'='1", description: '😀 é' })).toEqual([]);
    expect(verbatimVerdict('projects', r, sent, { name: "x' OR '1'='1" })).toEqual([]);
    const found = judged([ok('/projects', 201)], verbatimVerdict('projects', r, sent, { name: "x'' OR ''1''=''1", description: '😀 é' }));
    expect(found).toEqual([expect.stringMatching(/name stored as/)]);
  });

  it('log leak: a secret anywhere in a line is flagged, once per line', () => {
    const lines = ['{"msg":"request","path":"/login"}', '{"msg":"failed","detail":"key sk-live-abc123 rejected"}'];
    expect(logLeaks(['sk-live-zzz'], lines)).toEqual([]);
    expect(logLeaks(['sk-live-abc123', 'Unlogged-pass'], lines)).toEqual([expect.stringMatching(/^sk-liv… in .*failed/)]);
  });

  it('bad token: anything but 401 is flagged', () => {
    const r = route('GET', '/keys');
    expect(judged([refused('/keys', 401)], badTokenVerdict('providers', r, 'alg none', 401))).toEqual([]);
    expect(judged([ok('/keys')], badTokenVerdict('providers', r, 'alg none', 200))).toEqual([expect.stringMatching(/"alg none" answered 200, not 401/)]);
    // A 403 is a well-formed refusal, still not the 401 a bad credential gets.
    expect(judged([refused('/keys', 403)], badTokenVerdict('providers', r, 'expired', 403))).toEqual([expect.stringMatching(/answered 403/)]);
  });

  it('413: an oversized body answered anything else is flagged', () => {
    const r = route('POST', '/projects');
    expect(judged([refused('/projects', 413)], oversizeVerdict('projects', r, '1.1 MB', 413))).toEqual([]);
    expect(judged([refused('/projects', 422)], oversizeVerdict('projects', r, '1.1 MB', 422))).toEqual([expect.stringMatching(/1\.1 MB body answered 422, not 413/)]);
  });

  it('protected comes from the declared security; a declared-protected route answering anonymously is flagged', () => {
    const doc = { paths: {}, security: [{ bearer: [] }] };
    expect(declaredProtected(doc, route('GET', '/keys'))).toBe(true);
    expect(declaredProtected(doc, route('POST', '/login', { security: [] }))).toBe(false);
    expect(declaredProtected({ paths: {} }, route('GET', '/audit', { security: [{ bearer: [] }] }))).toBe(true);
    expect(declaredProtected({ paths: {} }, route('GET', '/audit'))).toBe(false);
    expect(anonymousVerdict('providers', route('GET', '/keys'), true, 401)).toEqual([]);
    expect(anonymousVerdict('auth', route('POST', '/login'), false, 422)).toEqual([]);
    expect(judged([ok('/keys')], anonymousVerdict('providers', route('GET', '/keys'), true, 200))).toEqual([expect.stringMatching(/declared protected, but answered 200/)]);
  });

  it('coverage: a skipped route, an exempt route that was reached, and a stale exemption are each flagged', () => {
    const required = ['f GET /a', 'f GET /b', 'f GET /c'];
    expect(coverageVerdict('s', required, ['f GET /a', 'f GET /b'], { 'f GET /c': 'why' })).toEqual([]);
    expect(coverageVerdict('s', required, ['f GET /a'], { 'f GET /c': 'why' })).toEqual(['s: f GET /b was not reached']);
    expect(coverageVerdict('s', required, required, { 'f GET /c': 'why' })).toEqual([expect.stringMatching(/f GET \/c is exempt .* drop the exemption/)]);
    expect(coverageVerdict('s', required, required, { 'f GET /gone': 'why' })).toEqual([expect.stringMatching(/not a route of the documents any more/)]);
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
