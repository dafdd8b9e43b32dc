import { describe, expect, it } from 'vitest';
import { REUSE_GRACE_MS } from '../../functions/shared/sessions/port.js';
import { call } from '../support/app.js';
import { authHarness, expectProblemShape } from './harness.js';

// The production adapter (Firestore emulator) behind the real routes.
const h = await authHarness({ store: 'firestore' });
const refresh = (refresh_token: string) => call(h.app, 'POST', '/token/refresh', { body: { refresh_token } });

describe('refresh tokens (Firestore session store)', () => {
  it('rotates: the new pair works, GET /sessions marks the current device', async () => {
    const u = await h.user({ headers: { 'user-agent': 'Phone/1', 'x-forwarded-for': '198.51.100.4' } });
    const r1 = await refresh(u.tokens.refresh_token);
    expect(r1.status).toBe(200);
    expect(r1.json.refresh_token).not.toBe(u.tokens.refresh_token);
    const list = await call(h.app, 'GET', '/sessions', { token: r1.json.access_token });
    expect(list.status).toBe(200);
    expect(list.json.items).toHaveLength(1);
    expect(list.json.items[0]).toMatchObject({ current: true, user_agent: null, ip: 'unknown' }); // last use was the refresh
    expect(list.json.next_cursor).toBeNull();
  });

  it('two parallel refreshes with one token: exactly one wins, nothing is revoked', async () => {
    const u = await h.user();
    const [a, b] = await Promise.all([refresh(u.tokens.refresh_token), refresh(u.tokens.refresh_token)]);
    expect([a.status, b.status].sort()).toEqual([200, 401]);
    const winner = a.status === 200 ? a : b;
    expect((await refresh(winner.json.refresh_token)).status).toBe(200);
  });

  it('a rotated token presented after the grace period revokes the whole family', async () => {
    const u = await h.user();
    const r1 = await refresh(u.tokens.refresh_token);
    h.clock.offsetMs += REUSE_GRACE_MS + 1_000;
    try {
      const reuse = await refresh(u.tokens.refresh_token);
      expectProblemShape(reuse, 401, 'invalid-refresh-token');
      // The legitimate holder's newer token died with the family.
      expect((await refresh(r1.json.refresh_token)).status).toBe(401);
      const list = await call(h.app, 'GET', '/sessions', { token: r1.json.access_token });
      expect(list.json.items).toEqual([]);
    } finally {
      h.clock.offsetMs = 0;
    }
  });

  it('an expired session is refused although its document still exists (TTL deletes late)', async () => {
    const u = await h.user();
    h.clock.offsetMs += 31 * 24 * 3_600_000;
    try {
      expect((await refresh(u.tokens.refresh_token)).status).toBe(401);
    } finally {
      h.clock.offsetMs = 0;
    }
    // Back in the present the session is still there: only the expiry refused it.
    expect((await refresh(u.tokens.refresh_token)).status).toBe(200);
  });

  it('logout and DELETE /sessions/:id revoke; another user cannot revoke mine', async () => {
    const u = await h.user();
    const second = await call(h.app, 'POST', '/login', { body: { email: u.email, password: u.password } });
    const other = await h.user();
    const list = await call(h.app, 'GET', '/sessions', { token: u.token });
    expect(list.json.items).toHaveLength(2);
    const secondId = list.json.items.find((s: any) => !s.current).id;
    expectProblemShape(await call(h.app, 'DELETE', `/sessions/${secondId}`, { token: other.token }), 404);
    expect((await call(h.app, 'DELETE', `/sessions/${secondId}`, { token: u.token })).status).toBe(204);
    expect((await refresh(second.json.refresh_token)).status).toBe(401);

    expect((await call(h.app, 'POST', '/logout', { body: { refresh_token: u.tokens.refresh_token } })).status).toBe(204);
    expect((await refresh(u.tokens.refresh_token)).status).toBe(401);
    // Logout is idempotent and says nothing about unknown tokens.
    expect((await call(h.app, 'POST', '/logout', { body: { refresh_token: 'never-issued-token-value' } })).status).toBe(204);
  });

  it('the store is Firestore and /readyz probes it', async () => {
    expect(h.services.sessionStore.kind).toBe('firestore');
    const ready = await call(h.app, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json.dependencies.firestore.status).toBe('ok');
  });
});
