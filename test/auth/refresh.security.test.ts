import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditLogs } from '../../drizzle/schema/auth.js';
import { withSystem } from '../../functions/shared/db/tenant.js';
import { REUSE_GRACE_MS } from '../../functions/shared/sessions/port.js';
import { call } from '../support/app.js';
import { authHarness, expectProblemShape } from '../support/auth.js';

// The production adapter (Firestore emulator) behind the real routes.
const h = await authHarness({ store: 'firestore' });
// The embedded adapter behind the same routes, for the reuse scenario both stores must detect.
const hp = await authHarness({ store: 'postgres' });
const refresh = (refresh_token: string, app = h.app) => call(app, 'POST', '/token/refresh', { body: { refresh_token } });

/** DESIGN.md §3: any rotated token, however many rotations old, presented after its grace revokes the family. */
async function thiefRotatesTwice(hx: Awaited<ReturnType<typeof authHarness>>) {
  const victim = await hx.user();
  const stolen = victim.tokens.refresh_token;
  const a1 = await refresh(stolen, hx.app);
  expect(a1.status).toBe(200);
  const a2 = await refresh(a1.json.refresh_token, hx.app);
  expect(a2.status).toBe(200);
  hx.clock.offsetMs += REUSE_GRACE_MS + 1_000;
  try {
    // The victim's token is two rotations old: not merely unknown, it revokes the family.
    expectProblemShape(await refresh(stolen, hx.app), 401, 'invalid-refresh-token');
    expectProblemShape(await refresh(a2.json.refresh_token, hx.app), 401, 'invalid-refresh-token');
    expect((await refresh(a1.json.refresh_token, hx.app)).status).toBe(401);
    // Reuse ends the access tokens too (token version), and no session of the login is left.
    expectProblemShape(await call(hx.app, 'GET', '/sessions', { token: victim.token }), 401, 'invalid-token');
    expect(await hx.services.sessionStore.listLive({ userId: victim.id, orgId: victim.orgId })).toEqual([]);
    const events = await withSystem(hx.database, (tx) =>
      tx.select().from(auditLogs).where(and(eq(auditLogs.userId, victim.id), eq(auditLogs.event, 'token_reuse_detected'))),
    );
    expect(events.map((e) => e.details)).toEqual([expect.objectContaining({ revoked: 1 })]);
  } finally {
    hx.clock.offsetMs = 0;
  }
}

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
      expectProblemShape(await call(h.app, 'GET', '/sessions', { token: r1.json.access_token }), 401, 'invalid-token');
      expect(await h.services.sessionStore.listLive({ userId: u.id, orgId: u.orgId })).toEqual([]);
    } finally {
      h.clock.offsetMs = 0;
    }
  });

  it('a thief who rotated a stolen token twice is caught when the victim comes back', () => thiefRotatesTwice(h));

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

describe('refresh tokens (PostgreSQL session store)', () => {
  it('a thief who rotated a stolen token twice is caught when the victim comes back', () => thiefRotatesTwice(hp));
});
