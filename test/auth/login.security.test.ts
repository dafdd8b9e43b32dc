import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditLogs, users } from '../../drizzle/schema/auth.js';
import { withSystem } from '../../functions/shared/db/tenant.js';
import { PasswordHasher } from '../../functions/shared/security/passwords.js';
import { call } from '../support/app.js';
import { authHarness, expectProblemShape } from './harness.js';

const h = await authHarness();
const wrong = 'not-the-password-at-all';

const userRow = async (id: string) => (await withSystem(h.database, (tx) => tx.select().from(users).where(eq(users.id, id))))[0]!;

describe('login lockout (10 consecutive failures, counted atomically in SQL)', () => {
  it('30 parallel wrong passwords count exactly 10 failures and lock the account', async () => {
    const u = await h.user();
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => call(h.app, 'POST', '/login', { body: { email: u.email, password: wrong } })),
    );
    // The lock never shows itself to a wrong password: every answer is the same 401.
    expect(answers.map((a) => a.status)).toEqual(Array(30).fill(401));
    expect(new Set(answers.map((a) => a.json.type))).toEqual(new Set(['urn:lattice-lock:problem:invalid-credentials']));
    const row = await userRow(u.id);
    expect(row.failedAttempts).toBe(10);
    expect(row.lockedUntil!.getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
    const events = await withSystem(h.database, (tx) => tx.select().from(auditLogs).where(eq(auditLogs.userId, u.id)));
    expect(events.filter((e) => e.event === 'account_locked')).toHaveLength(1);
    expect(events.filter((e) => e.event === 'login_failed')).toHaveLength(30);

    // A wrong password after the lock: still the plain 401, nothing counted.
    const after = await call(h.app, 'POST', '/login', { body: { email: u.email, password: wrong } });
    expectProblemShape(after, 401, 'invalid-credentials');
    expect(after.headers.get('retry-after')).toBeNull();
    expect((await userRow(u.id)).failedAttempts).toBe(10);

    // The right password learns about the lock: 423 with Retry-After.
    const right = await call(h.app, 'POST', '/login', { body: { email: u.email, password: u.password } });
    expectProblemShape(right, 423, 'account-locked');
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(800);
  });

  it('after the lock expires the count starts again, and a success resets it', async () => {
    const u = await h.user();
    await withSystem(h.database, (tx) =>
      tx.update(users).set({ failedAttempts: 10, lockedUntil: new Date(Date.now() - 1000) }).where(eq(users.id, u.id)),
    );
    expect((await call(h.app, 'POST', '/login', { body: { email: u.email, password: wrong } })).status).toBe(401);
    expect(await userRow(u.id)).toMatchObject({ failedAttempts: 1, lockedUntil: null });
    const ok = await call(h.app, 'POST', '/login', { body: { email: u.email, password: u.password } });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ token_type: 'Bearer', expires_in: 900, access_token: expect.any(String), refresh_token: expect.any(String) });
    const row = await userRow(u.id);
    expect(row.failedAttempts).toBe(0);
    expect(row.lastLoginAt).not.toBeNull();
  });

  it('every attempt is audited with ip and user agent', async () => {
    const u = await h.user();
    // The first entry is the client's own claim; Google's front end appended the last (client-ip.ts).
    const headers = { 'x-forwarded-for': '8.8.8.8, 203.0.113.9', 'user-agent': 'AuditTest/1.0' };
    await call(h.app, 'POST', '/login', { body: { email: u.email, password: wrong }, headers });
    await call(h.app, 'POST', '/login', { body: { email: u.email, password: u.password }, headers });
    const events = await withSystem(h.database, (tx) => tx.select().from(auditLogs).where(eq(auditLogs.userId, u.id)));
    const mine = events.filter((e) => e.ip === '203.0.113.9');
    expect(mine.map((e) => e.event).sort()).toEqual(['login_failed', 'login_succeeded']);
    expect(mine.every((e) => e.userAgent === 'AuditTest/1.0' && e.orgId === u.orgId)).toBe(true);
  });
});

describe('unknown email and wrong password look the same', () => {
  it('same status and body, and median times within 20% (sampled, interleaved)', async () => {
    const u = await h.user();
    const strip = (body: any) => ({ ...body, instance: undefined });
    const unknown = () => call(h.app, 'POST', '/login', { body: { email: `nobody-${Math.random()}@example.test`, password: wrong } });
    const wrongPw = () => call(h.app, 'POST', '/login', { body: { email: u.email, password: wrong } });
    await unknown(); // warm the dummy hash
    const a = await unknown();
    const b = await wrongPw();
    expect(a.status).toBe(b.status);
    expect(strip(a.json)).toEqual(strip(b.json));
    for (const name of ['content-type', 'www-authenticate', 'retry-after']) expect(a.headers.get(name)).toBe(b.headers.get(name));

    const times: Record<'unknown' | 'wrong', number[]> = { unknown: [], wrong: [] };
    const timed = async (kind: 'unknown' | 'wrong') => {
      const started = performance.now();
      const res = kind === 'unknown' ? await unknown() : await wrongPw();
      times[kind].push(performance.now() - started);
      expect(res.status).toBe(401);
    };
    for (let i = 0; i < 7; i++) {
      // wrong-password attempts stay under the lockout threshold (1 + 7 < 10)
      await timed(i % 2 ? 'unknown' : 'wrong');
      await timed(i % 2 ? 'wrong' : 'unknown');
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const ratio = median(times.unknown) / median(times.wrong);
    expect(ratio).toBeGreaterThan(1 / 1.2);
    expect(ratio).toBeLessThan(1.2);
  });
});

describe('rehash on login when the parameters change', () => {
  it('a hash made with older parameters is replaced by one with the current parameters', async () => {
    const u = await h.user();
    const old = await new PasswordHasher({ params: { memoryCost: 19_456, timeCost: 2, parallelism: 1 } }).hash(u.password);
    await withSystem(h.database, (tx) => tx.update(users).set({ passwordHash: old }).where(eq(users.id, u.id)));
    expect((await call(h.app, 'POST', '/login', { body: { email: u.email, password: u.password } })).status).toBe(200);
    const stored = (await userRow(u.id)).passwordHash;
    expect(stored).not.toBe(old);
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=65536,t=3,p=4\$/);
  });
});
