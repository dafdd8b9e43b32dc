import { getTestServer } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveFunction } from '../../functions/shared/http/serve.js';
import { call, listen } from '../support/app.js';
import { authHarness, expectProblemShape } from '../support/auth.js';

const h = await authHarness();
const u = await h.user({ role: 'admin' });

/** Every route of the auth function that takes a JSON body. */
const bodyRoutes: Array<[method: string, path: string, authed: boolean]> = [
  ['POST', '/register', false],
  ['POST', '/login', false],
  ['POST', '/login/mfa', false],
  ['POST', '/token/refresh', false],
  ['POST', '/logout', false],
  ['POST', '/mfa/totp/enable', true],
  ['POST', '/mfa/totp/disable', true],
  ['POST', '/password/forgot', false],
  ['POST', '/password/reset', false],
  ['POST', '/password/change', true],
  ['POST', '/invitations', true],
  ['POST', '/organizations', true],
];

describe('malformed input never reaches a 500', () => {
  it.each(bodyRoutes)('%s %s: malformed JSON → 400 problem+json', async (method, path, authed) => {
    const res = await call(h.app, method, path, { body: '{"email": ', token: authed ? u.token : undefined });
    expectProblemShape(res, 400, 'malformed-json');
  });

  it.each(bodyRoutes)('%s %s: wrong types → 422 listing the fields', async (method, path, authed) => {
    const res = await call(h.app, method, path, { body: { email: 42, password: [], code: {}, role: 'emperor', name: null, token: 1, refresh_token: 2, mfa_token: 3, invitation_code: 4, current_password: 5, new_password: 6 }, token: authed ? u.token : undefined });
    expectProblemShape(res, 422, 'validation-failed');
    expect(res.json.errors.length).toBeGreaterThan(0);
  });

  it.each(bodyRoutes)('%s %s: a JSON body sent as text/plain → 415', async (method, path, authed) => {
    const res = await call(h.app, method, path, { body: '{}', headers: { 'content-type': 'text/plain' }, token: authed ? u.token : undefined });
    expectProblemShape(res, 415);
  });

  it.each([
    ['GET', '/sessions?limit=0'],
    ['GET', '/sessions?cursor=not-a-cursor'],
    ['DELETE', '/sessions/not-a-uuid'],
    ['DELETE', '/invitations/not-a-uuid'],
    ['GET', '/invitations?limit=abc'],
    ['GET', '/audit?event=nonsense'],
  ])('%s %s → 4xx problem+json', async (method, path) => {
    const res = await call(h.app, method, path, { token: u.token });
    expect([400, 422]).toContain(res.status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it.each([
    ['GET', '/me'],
    ['GET', '/sessions'],
    ['POST', '/mfa/totp/setup'],
    ['GET', '/invitations'],
    ['GET', '/audit'],
  ])('%s %s without or with a garbage token → 401', async (method, path) => {
    expectProblemShape(await call(h.app, method, path), 401);
    expectProblemShape(await call(h.app, method, path, { token: 'garbage.token.value' }), 401);
  });
});

describe('through the functions-framework server', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    serveFunction('authMalformed', h.app);
    server = await listen(getTestServer('authMalformed'));
  });
  afterAll(() => server.close());

  it('malformed JSON on /login answers 400 problem+json, not an HTML page', async () => {
    const res = await fetch(`${server.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as any).status).toBe(400);
  });

  it('a valid login works through the framework', async () => {
    const res = await fetch(`${server.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: u.email, password: u.password }) });
    expect(res.status).toBe(200);
  });
});
