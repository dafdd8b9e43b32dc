import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/db.js';
import { expectProblem, projectsApp } from '../support/projects.js';
import { createTenant, type TestTenant } from '../support/tenants.js';

const { database } = await createTestDatabase();
const { app, api } = projectsApp(database);

let member: TestTenant;
let projectId: string;
beforeAll(async () => {
  member = await createTenant(database, { role: 'member' });
  projectId = (await api('POST', '/projects', member.token, { name: 'target' })).json.id;
});

/** Strings that have broken JSON APIs over PostgreSQL before: NUL, lone surrogates, huge, blank. */
const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', '\udfff\ud800', '   ', '', '-', 'UPPER', 'a'.repeat(70), 'x'.repeat(5000), '💥'.repeat(40), "'; drop table x; --", '%_\\'),
);
const anyValue = fc.oneof(nasty, fc.jsonValue(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(nasty));
const projectBody = fc.oneof(
  fc.record({ name: anyValue, slug: anyValue, description: anyValue }, { requiredKeys: [] }),
  fc.record({ name: nasty, slug: nasty, description: fc.option(nasty) }, { requiredKeys: ['name'] }),
  fc.dictionary(nasty, anyValue),
  fc.jsonValue(),
);

async function send(method: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await app.request(path, { method, headers: { authorization: `Bearer ${member.token}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), text };
}

function expectNoServerError(res: { status: number; type: string | null; text: string }) {
  expect(res.status, res.text).toBeLessThan(500);
  if (res.status >= 400) {
    expect(res.type).toBe('application/problem+json');
    expect(JSON.parse(res.text)).toMatchObject({ status: res.status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
  }
}

describe('bad input never answers 5xx (property-based)', () => {
  it('POST /projects with random bodies', async () => {
    await fc.assert(fc.asyncProperty(projectBody, async (body) => expectNoServerError(await send('POST', '/projects', body))), { numRuns: 250 });
  });

  it('PATCH /projects/:id with random bodies and If-Match values', async () => {
    const ifMatch = fc.oneof(fc.constant('"1"'), fc.string(), fc.integer().map(String), fc.integer({ min: 0, max: 2 ** 31 }).map((n) => `"${n}"`));
    await fc.assert(
      fc.asyncProperty(projectBody, ifMatch, async (body, etag) => {
        // Header values must be ISO-8859-1; anything else is the client's own error before we see it.
        if (!/^[\x20-\x7e]*$/.test(etag)) return;
        expectNoServerError(await send('PATCH', `/projects/${projectId}`, body, { 'if-match': etag }));
      }),
      { numRuns: 250 },
    );
  });

  it('other create bodies of the projects routes', async () => {
    const paths = ['validations', 'errors', 'checkpoints', 'versions', 'baselines', 'baselines/check', 'policies'].map((p) => `/projects/${projectId}/${p}`);
    paths.push('/policies', '/promotions', '/blacklist', '/comparisons', `/projects/${projectId}/experiments`, `/projects/${projectId}/analysis-sessions`);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.oneof(fc.dictionary(nasty, anyValue), fc.record({ config: fc.dictionary(nasty, anyValue), metric: anyValue, operator: anyValue, threshold: anyValue, code: anyValue, message: anyValue, severity: anyValue, kind: anyValue, result: anyValue, reason: anyValue, version_id: fc.oneof(fc.uuid(), anyValue), evaluation_id: fc.uuid(), base_version_id: fc.uuid(), candidate_version_id: fc.uuid(), config_hash: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), anyValue), name: anyValue, rego: anyValue }, { requiredKeys: [] })), async (path, body) => {
        expectNoServerError(await send('POST', path, body));
      }),
      { numRuns: 250 },
    );
  });
});

describe('contract errors', () => {
  it('malformed JSON is 400, a non-JSON content type 415, a schema failure 422 with every issue', async () => {
    const raw = await app.request('/projects', { method: 'POST', headers: { authorization: `Bearer ${member.token}`, 'content-type': 'application/json' }, body: '{"name": ' });
    expect(raw.status).toBe(400);
    expect(raw.headers.get('content-type')).toBe('application/problem+json');
    const text = await app.request('/projects', { method: 'POST', headers: { authorization: `Bearer ${member.token}`, 'content-type': 'text/plain' }, body: '{"name":"x"}' });
    expect(text.status).toBe(415);
    const bad = await api('POST', '/projects', member.token, { name: '', slug: 'Not A Slug', extra: 1 });
    expectProblem(bad, 422, 'validation-failed');
    expect(bad.json.errors.map((e: any) => e.path).sort()).toEqual(expect.arrayContaining(['name', 'slug']));
  });

  it('authenticates every route: no token 401, a forged one 401', async () => {
    expectProblem(await api('GET', '/projects', ''), 401);
    expectProblem(await api('GET', `/projects/${projectId}/versions`, 'x'.repeat(40)), 401, 'invalid-token');
    expectProblem(await api('GET', '/audit', ''), 401);
  });

  it('path ids must be uuids; unknown ids are 404', async () => {
    expectProblem(await api('GET', '/projects/not-a-uuid', member.token), 422);
    expectProblem(await api('GET', '/projects/00000000-0000-4000-8000-000000000000', member.token), 404);
  });
});
