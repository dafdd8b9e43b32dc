import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLogSink } from '../../functions/shared/http/logger.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant, type TestTenant } from '../support/tenants.js';
import { send, violations } from '../support/reliability/checks.js';
import { buildFunctions, type FunctionUnderTest } from '../support/reliability/functions.js';
import { deepNesting } from '../support/reliability/fuzz.js';

/**
 * The inputs a security review found answering 500 (issue 14, item 3), each sent as the review sent
 * it: NUL in emails, names and alert targets; lone surrogates; well-formed base64 cursors holding
 * non-dates; impossible calendar dates; JSON nested tens of thousands deep. Every one must answer a
 * 4xx in the contract's shape (422 for a field's content, 400 for a cursor we did not make).
 */
const { database } = await createTestDatabase();
let fns: Record<string, FunctionUnderTest>;
let admin: TestTenant;
let previousSink: (line: string) => void;

beforeAll(async () => {
  previousSink = setLogSink(() => {});
  fns = Object.fromEntries((await buildFunctions(database)).map((f) => [f.name, f]));
  admin = await createTenant(database, { role: 'admin' });
});
afterAll(() => void setLogSink(previousSink));

const headers = (token?: string) => ({ 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) });

async function post(fn: string, path: string, body: unknown, token?: string) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const x = await send(fns[fn]!.app, fn, 'repro', 'POST', path, { headers: headers(token), body: raw });
  expect(violations(x)).toEqual([]);
  return x;
}
async function get(fn: string, path: string, token = admin.token) {
  const x = await send(fns[fn]!.app, fn, 'repro', 'GET', path, { headers: headers(token) });
  expect(violations(x)).toEqual([]);
  return x;
}

/** A cursor that decodes and has the right arity, but whose values are not what the list made. */
const cursorOf = (values: unknown) => Buffer.from(JSON.stringify(values)).toString('base64url');

describe('text fields refuse NUL and lone surrogates with 422', () => {
  for (const [label, bad] of [['NUL', 'ada\u0000@example.com'], ['lone high surrogate', 'ada\uD800@example.com'], ['lone low surrogate', 'ada\uDC00@example.com']] as const) {
    it(`${label} in an email: /login, /password/forgot, /invitations`, async () => {
      expect((await post('auth', '/login', { email: bad, password: 'Correct-Horse-Battery-Staple-91' })).status).toBe(422);
      expect((await post('auth', '/password/forgot', { email: bad })).status).toBe(422);
      expect((await post('auth', '/invitations', { email: bad, role: 'member' }, admin.token)).status).toBe(422);
    });
  }

  it('NUL and a lone surrogate in a name: /register and /providers/api-keys', async () => {
    const invite = await post('auth', '/invitations', { role: 'member' }, admin.token);
    expect(invite.status).toBe(201);
    for (const name of ['Ada\u0000Lovelace', 'Ada\uDFFF']) {
      const x = await post('auth', '/register', { invitation_code: invite.json.invitation_code, email: `nul-${Date.now()}@example.test`, password: 'Correct-Horse-Battery-Staple-91', name });
      expect(x.status).toBe(422);
      expect(x.json.errors.map((e: { path: string }) => e.path)).toContain('name');
      expect((await post('providers', '/api-keys', { name }, admin.token)).status).toBe(422);
    }
  });

  it('NUL in an alert target and in a free-form JSON key or value', async () => {
    const x = await post('providers', '/alerts', { threshold_percent: 80, period: 'daily', metric: 'cost', channel: 'webhook', target: 'https://hooks.example.com/a\u0000b' }, admin.token);
    expect(x.status).toBe(422);
    const project = await post('projects', '/projects', { name: `nul-${Date.now()}` }, admin.token);
    expect(project.status).toBe(201);
    for (const config of [{ 'k\u0000': 1 }, { k: 'v\u0000' }, { k: ['\uD800'] }]) {
      const v = await post('projects', `/projects/${project.json.id}/versions`, { config }, admin.token);
      expect(v.status).toBe(422);
      expect(v.json.errors[0].path).toMatch(/^config/);
    }
  });

  it('well-formed text still passes: a surrogate pair, accents, RTL', async () => {
    const x = await post('providers', '/api-keys', { name: 'Clé 😀 مرحبا' }, admin.token);
    expect(x.status).toBe(201);
    expect(x.json.name).toBe('Clé 😀 مرحبا');
  });
});

describe('cursors decode through one validated helper: anything we did not make answers 400', () => {
  const hostile = [cursorOf(['not a date', '00000000-0000-0000-0000-000000000000']), cursorOf(['2026-12-03T10:00:00.000Z', "x' OR 1=1 --"]), cursorOf(['2026-13-45T99:00:00Z', '00000000-0000-0000-0000-000000000000']), cursorOf([1e308, null])];
  const lists: [string, string][] = [['auth', '/audit'], ['auth', '/invitations'], ['auth', '/sessions'], ['providers', '/keys'], ['providers', '/api-keys'], ['providers', '/alerts'], ['projects', '/projects']];
  for (const [fn, path] of lists) {
    it(`${fn} ${path}`, async () => {
      for (const cursor of hostile) {
        const x = await get(fn, `${path}?cursor=${cursor}`);
        expect(x.status, `${cursor} → ${x.text.slice(0, 200)}`).toBe(400);
        expect(x.json.type).toMatch(/invalid-cursor$/);
      }
    });
  }

  it('a cursor the list made still pages', async () => {
    for (let i = 0; i < 3; i++) expect((await post('providers', '/api-keys', { name: `page-${i}` }, admin.token)).status).toBe(201);
    const first = await get('providers', '/api-keys?limit=2');
    expect(first.json.next_cursor).toEqual(expect.any(String));
    const second = await get('providers', `/api-keys?limit=2&cursor=${first.json.next_cursor}`);
    expect(second.status).toBe(200);
    expect(second.json.items.length).toBeGreaterThan(0);
  });
});

describe('dates parse strictly', () => {
  it('/providers/usage refuses impossible calendar days with 422', async () => {
    for (const q of ['to=2026-13-45', 'from=2024-02-30', 'from=2023-02-29', 'to=0000-01-01']) {
      expect((await get('providers', `/usage?${q}`)).status, q).toBe(422);
    }
    expect((await get('providers', '/usage?from=2024-02-29&to=2024-03-01')).status).toBe(200);
  });

  it('/providers/api-keys refuses an impossible expires_at with 422', async () => {
    expect((await post('providers', '/api-keys', { name: 'exp', expires_at: '2030-02-30T00:00:00Z' }, admin.token)).status).toBe(422);
  });
});

describe('JSON nesting is bounded before anything recurses over it', () => {
  it('a 30,000-deep version config answers 422', async () => {
    const project = await post('projects', '/projects', { name: `deep-${Date.now()}` }, admin.token);
    const x = await post('projects', `/projects/${project.json.id}/versions`, `{"config":{"a":${deepNesting(30_000)}}}`, admin.token);
    expect(x.status).toBe(422);
    expect(x.json.type).toMatch(/json-too-deep$/);
  });

  it('a 200,000-deep message content on /v1/chat/completions answers 422 in the OpenAI shape', async () => {
    const x = await post('providers', '/v1/chat/completions', `{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":${deepNesting(200_000)}}]}`, admin.token);
    expect(x.status).toBe(422);
    expect(x.json.error.code).toBe('json-too-deep');
  });

  it('nesting at the limit is accepted: a config 60 levels deep', async () => {
    const project = await post('projects', '/projects', { name: `ok-${Date.now()}` }, admin.token);
    const x = await post('projects', `/projects/${project.json.id}/versions`, `{"config":{"a":${deepNesting(60)}}}`, admin.token);
    expect(x.status).toBe(201);
  });
});
