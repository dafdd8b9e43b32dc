import { eq } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { auditLogs, users } from '../../drizzle/schema/auth.js';
import { withSystem } from '../../functions/shared/db/tenant.js';
import { PasswordHasher } from '../../functions/shared/security/passwords.js';
import { call } from '../support/app.js';
import { authHarness, expectProblemShape } from '../support/auth.js';

const h = await authHarness();
const wrong = 'not-the-password-at-all';

const userRow = async (id: string) => (await withSystem(h.database, (tx) => tx.select().from(users).where(eq(users.id, id))))[0]!;

describe('login lockout (10 consecutive failures, counted atomically in SQL)', () => {
  it('30 parallel wrong passwords count exactly 10 failures and lock the account', async () => {
    const u = await h.user();
    const before = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => call(h.app, 'POST', '/login', { body: { email: u.email, password: wrong } })),
    );
    // The lock never shows itself to a wrong password: every answer is the same 401.
    expect(answers.map((a) => a.status)).toEqual(Array(30).fill(401));
    expect(new Set(answers.map((a) => a.json.type))).toEqual(new Set(['urn:lattice-lock:problem:invalid-credentials']));
    const row = await userRow(u.id);
    expect(row.failedAttempts).toBe(10);
    // Locked for 15 minutes from the 10th failure, which happened while the calls ran.
    const lockedAt = row.lockedUntil!.getTime() - 15 * 60_000;
    expect(lockedAt).toBeGreaterThanOrEqual(before - 1);
    expect(lockedAt).toBeLessThanOrEqual(Date.now() + 1);
    const events = await withSystem(h.database, (tx) => tx.select().from(auditLogs).where(eq(auditLogs.userId, u.id)));
    expect(events.filter((e) => e.event === 'account_locked')).toHaveLength(1);
    expect(events.filter((e) => e.event === 'login_failed')).toHaveLength(30);

    // A wrong password after the lock: still the plain 401, nothing counted.
    const after = await call(h.app, 'POST', '/login', { body: { email: u.email, password: wrong } });
    expectProblemShape(after, 401, 'invalid-credentials');
    expect(after.headers.get('retry-after')).toBeNull();
    expect((await userRow(u.id)).failedAttempts).toBe(10);

    // The right password learns about the lock: 423 with Retry-After.
    const asked = Date.now();
    const right = await call(h.app, 'POST', '/login', { body: { email: u.email, password: u.password } });
    const answered = Date.now();
    expectProblemShape(right, 423, 'account-locked');
    // The seconds left of the lock, rounded up, at some instant while the request ran.
    const retry = Number(right.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(Math.ceil((row.lockedUntil!.getTime() - answered) / 1000) - 1);
    expect(retry).toBeLessThanOrEqual(Math.ceil((row.lockedUntil!.getTime() - asked) / 1000) + 1);
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

// Not timed: medians of a few Argon2 runs on shared cores measure the machine, not the code. What keeps
// the two answers equally long is that both do the same Argon2 work, and that is what is checked here.
describe('unknown email and wrong password look the same', () => {
  it('same status, body and headers, and both verify the password once against a hash of the same cost', async () => {
    const u = await h.user();
    const strip = (body: any) => ({ ...body, instance: undefined });
    const verified: { stored: string; password: string }[] = [];
    const real = h.services.passwords.verify.bind(h.services.passwords);
    const spy = vi.spyOn(h.services.passwords, 'verify').mockImplementation(async (stored: string, password: string) => {
      verified.push({ stored, password });
      return real(stored, password);
    });
    try {
      const unknownPassword = `unknown-${randomUUID()}`;
      const a = await call(h.app, 'POST', '/login', { body: { email: `nobody-${randomUUID()}@example.test`, password: unknownPassword } });
      const unknownPath = verified.splice(0);
      const b = await call(h.app, 'POST', '/login', { body: { email: u.email, password: wrong } });
      const wrongPath = verified.splice(0);

      expect(a.status).toBe(401);
      expect(b.status).toBe(401);
      expect(strip(a.json)).toEqual(strip(b.json));
      for (const name of ['content-type', 'www-authenticate', 'retry-after']) expect(a.headers.get(name)).toBe(b.headers.get(name));

      // One verification each, of the password that was sent.
      expect(unknownPath.map((v) => v.password)).toEqual([unknownPassword]);
      expect(wrongPath.map((v) => v.password)).toEqual([wrong]);
      // Same algorithm, version, memory, iterations, lanes, salt and output length: the same Argon2 work.
      const cost = (stored: string) => {
        const [, algorithm, version, params, salt, hash] = stored.split('$');
        return { algorithm, version, params, saltLength: salt!.length, hashLength: hash!.length };
      };
      const stored = (await userRow(u.id)).passwordHash;
      expect(cost(unknownPath[0]!.stored)).toEqual(cost(stored));
      expect(cost(wrongPath[0]!.stored)).toEqual(cost(stored));
      expect(wrongPath[0]!.stored).toBe(stored);
      expect(unknownPath[0]!.stored).not.toBe(stored);
    } finally {
      spy.mockRestore();
    }
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
