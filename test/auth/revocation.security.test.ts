/**
 * Access tokens stop working within seconds of logout, session revocation, password change or
 * reset, disable and role change (DESIGN.md §4), with either session store: the check is the user's
 * token version in PostgreSQL (functions/shared/security/revocation.ts), cached per instance for at
 * most a few seconds. Time is moved with a faked Date, never waited for.
 */
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { users } from '../../drizzle/schema/auth.js';
import { withSystem } from '../../functions/shared/db/tenant.js';
import { MAX_TOKEN_STATE_TTL_MS, staleReason, TokenStateCache } from '../../functions/shared/security/revocation.js';
import { verifyAccessToken } from '../../functions/shared/security/tokens.js';
import { call } from '../support/app.js';
import { authHarness, expectProblemShape } from '../support/auth.js';

const harnesses = {
  postgres: await authHarness({ store: 'postgres' }),
  firestore: await authHarness({ store: 'firestore' }),
};

/** Another instance's view: its cache entries expire after at most MAX_TOKEN_STATE_TTL_MS. */
function passCacheLifetime() {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now() + MAX_TOKEN_STATE_TTL_MS + 1);
}
afterEach(() => vi.useRealTimers());

describe.each(Object.keys(harnesses) as (keyof typeof harnesses)[])('access token revocation (%s session store)', (store) => {
  const h = harnesses[store];
  const me = (token: string) => call(h.app, 'GET', '/me', { token });
  const login = (u: { email: string; password: string }) => call(h.app, 'POST', '/login', { body: { email: u.email, password: u.password } });

  it('logout ends the access token at once; the user\'s other device refreshes and goes on', async () => {
    const u = await h.user();
    const other = await login(u);
    expect((await me(u.token)).status).toBe(200);
    expect((await call(h.app, 'POST', '/logout', { body: { refresh_token: u.tokens.refresh_token } })).status).toBe(204);
    expectProblemShape(await me(u.token), 401, 'invalid-token');
    expect((await call(h.app, 'POST', '/token/refresh', { body: { refresh_token: u.tokens.refresh_token } })).status).toBe(401);
    const renewed = await call(h.app, 'POST', '/token/refresh', { body: { refresh_token: other.json.refresh_token } });
    expect(renewed.status).toBe(200);
    expect((await me(renewed.json.access_token)).status).toBe(200);
  });

  it('DELETE /sessions/:id ends that session\'s access token', async () => {
    const u = await h.user();
    const phone = await login(u);
    const sessions = await call(h.app, 'GET', '/sessions', { token: u.token });
    const phoneSession = sessions.json.items.find((s: any) => !s.current);
    expect((await call(h.app, 'DELETE', `/sessions/${phoneSession.id}`, { token: u.token })).status).toBe(204);
    expectProblemShape(await me(phone.json.access_token), 401, 'invalid-token');
    expect((await call(h.app, 'POST', '/token/refresh', { body: { refresh_token: phone.json.refresh_token } })).status).toBe(401);
  });

  it('a password change ends every access token; only the caller\'s own session may refresh', async () => {
    const u = await h.user();
    const other = await login(u);
    const changed = await call(h.app, 'POST', '/password/change', { token: u.token, body: { current_password: u.password, new_password: `${u.password}-changed` } });
    expect(changed.status).toBe(204);
    expectProblemShape(await me(other.json.access_token), 401, 'invalid-token');
    expectProblemShape(await me(u.token), 401, 'invalid-token');
    expect((await call(h.app, 'POST', '/token/refresh', { body: { refresh_token: other.json.refresh_token } })).status).toBe(401);
    const mine = await call(h.app, 'POST', '/token/refresh', { body: { refresh_token: u.tokens.refresh_token } });
    expect(mine.status).toBe(200);
    expect((await me(mine.json.access_token)).status).toBe(200);
  });

  it('a password reset ends every access token and session', async () => {
    const u = await h.user();
    expect((await call(h.app, 'POST', '/password/forgot', { body: { email: u.email } })).status).toBe(202);
    const token = h.mails.at(-1)!.token;
    expect((await call(h.app, 'POST', '/password/reset', { body: { token, new_password: 'an-entirely-new-passphrase-9' } })).status).toBe(204);
    expectProblemShape(await me(u.token), 401, 'invalid-token');
    expect((await call(h.app, 'POST', '/token/refresh', { body: { refresh_token: u.tokens.refresh_token } })).status).toBe(401);
  });

  it('disabling a user (even straight in SQL) ends their token once the instance cache lapses', async () => {
    const u = await h.user();
    expect((await me(u.token)).status).toBe(200);
    await withSystem(h.database, (tx) => tx.update(users).set({ status: 'disabled' }).where(eq(users.id, u.id)));
    passCacheLifetime();
    expectProblemShape(await me(u.token), 401, 'invalid-token');
  });

  it('a role change ends tokens carrying the old role; a new login carries the new one', async () => {
    const u = await h.user({ role: 'admin' });
    expect((await call(h.app, 'GET', '/invitations', { token: u.token })).status).toBe(200);
    await withSystem(h.database, (tx) => tx.update(users).set({ role: 'viewer' }).where(eq(users.id, u.id)));
    passCacheLifetime();
    expectProblemShape(await call(h.app, 'GET', '/invitations', { token: u.token }), 401, 'invalid-token');
    const again = await login(u);
    expect((await verifyAccessToken(h.services.config.JWT_SECRETS, again.json.access_token)).role).toBe('viewer');
    expect((await call(h.app, 'GET', '/invitations', { token: again.json.access_token })).status).toBe(403);
  });
});

describe('the per-instance cache', () => {
  const h = harnesses.postgres;

  it('serves a user\'s state for at most its lifetime (capped at 5 s), then reads it again', async () => {
    const u = await h.user();
    const principal = await verifyAccessToken(h.services.config.JWT_SECRETS, u.token);
    let now = 1_000_000;
    const cache = new TokenStateCache({ ttlMs: 60_000, now: () => now });
    expect(staleReason(principal, principal.tokenVersion, await cache.get(h.database, u.id))).toBeUndefined();
    await withSystem(h.database, (tx) => tx.update(users).set({ status: 'disabled' }).where(eq(users.id, u.id)));
    // Within the lifetime this instance may still answer from its cache...
    expect(staleReason(principal, principal.tokenVersion, await cache.get(h.database, u.id))).toBeUndefined();
    // ...and never past MAX_TOKEN_STATE_TTL_MS, whatever lifetime it was given.
    now += MAX_TOKEN_STATE_TTL_MS + 1;
    expect(staleReason(principal, principal.tokenVersion, await cache.get(h.database, u.id))).toBe('account disabled or removed');
  });

  it('a token without a version claim (issued before versions existed) is refused', async () => {
    const u = await h.user();
    const principal = await verifyAccessToken(h.services.config.JWT_SECRETS, u.token);
    const state = await new TokenStateCache().get(h.database, u.id);
    expect(staleReason({ ...principal, tokenVersion: undefined }, undefined, state)).toBe('token revoked');
  });
});
