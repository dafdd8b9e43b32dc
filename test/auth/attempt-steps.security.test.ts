import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditLogs } from '../../drizzle/schema/auth.js';
import { completeLogin, recordFailedAttempt } from '../../functions/auth/service/login.js';
import { countAttempt } from '../../functions/auth/service/rate-limit.js';
import { findUserById, LOCKOUT_THRESHOLD } from '../../functions/auth/service/users.js';
import type { Tx } from '../../functions/shared/db/database.js';
import { HttpProblem } from '../../functions/shared/http/problem.js';
import { createTestDatabase, inRolledBackSystem } from '../support/db.js';
import { createTenant } from '../support/tenants.js';

// The transactional steps of sign-in called directly, each test inside one system transaction that is
// rolled back (the flows in functions/auth/flows/ run them in their own short transactions).

const { database } = await createTestDatabase();
const client = { ip: '192.0.2.10', userAgent: 'steps-test' };

const eventsOf = (tx: Tx, userId: string) => tx.select().from(auditLogs).where(eq(auditLogs.userId, userId));

describe('rate-limit step: the refusal is returned, not thrown, so the caller commits it first', () => {
  it('under the limit: nothing to refuse, nothing audited; over it: a 429 with Retry-After and a rate_limited row in the same transaction', async () => {
    const userId = randomUUID();
    const rules: Array<[string, { max: number; windowSeconds: number }]> = [[`steps:${userId}`, { max: 2, windowSeconds: 600 }]];
    const context = { action: 'steps', userId };
    const { answers, rows } = await inRolledBackSystem(database, async (tx) => {
      const answers: Array<HttpProblem | undefined> = [];
      for (let i = 0; i < 3; i++) answers.push(await countAttempt(tx, rules, client, context));
      return { answers, rows: await eventsOf(tx, userId) };
    });
    expect(answers.slice(0, 2)).toEqual([undefined, undefined]);
    const refusal = answers[2]!;
    expect(refusal).toBeInstanceOf(HttpProblem);
    expect(refusal.status).toBe(429);
    expect(Number(refusal.extra.headers?.['Retry-After'])).toBeGreaterThan(0);
    expect(rows.map((r) => [r.event, r.details, r.ip])).toEqual([['rate_limited', { action: 'steps' }, client.ip]]);
    // Rolled back: the next transaction starts the window from zero.
    expect(await inRolledBackSystem(database, (tx) => countAttempt(tx, rules, client, context))).toBeUndefined();
  });
});

describe('lockout steps', () => {
  it('the 10th failure locks and is audited in the same transaction; completeLogin then reports the lock instead of clearing it', async () => {
    const { userId } = await createTenant(database, { role: 'member' });
    const { wait, events } = await inRolledBackSystem(database, async (tx) => {
      const user = (await findUserById(tx, userId))!;
      for (let i = 0; i < LOCKOUT_THRESHOLD; i++) await recordFailedAttempt(tx, user, client, 'login_failed', { reason: 'wrong_password' });
      const wait = await completeLogin(tx, user, client, { method: 'password' });
      return { wait, events: (await eventsOf(tx, userId)).map((e) => e.event) };
    });
    expect(wait).toBeGreaterThan(14 * 60);
    expect(events.filter((e) => e === 'login_failed')).toHaveLength(LOCKOUT_THRESHOLD);
    expect(events.filter((e) => e === 'account_locked')).toHaveLength(1);
    expect(events.filter((e) => e === 'login_locked')).toHaveLength(1);
    expect(events).not.toContain('login_succeeded');
  });

  it('below the threshold a complete login clears the count and is audited as login_succeeded', async () => {
    const { userId } = await createTenant(database, { role: 'member' });
    const { wait, after, events } = await inRolledBackSystem(database, async (tx) => {
      const user = (await findUserById(tx, userId))!;
      await recordFailedAttempt(tx, user, client, 'login_failed', { reason: 'wrong_password' });
      const wait = await completeLogin(tx, user, client, { method: 'password' });
      return { wait, after: (await findUserById(tx, userId))!, events: (await eventsOf(tx, userId)).map((e) => e.event) };
    });
    expect(wait).toBe(0);
    expect(after.failedAttempts).toBe(0);
    expect(after.lastLoginAt).not.toBeNull();
    expect(events.sort()).toEqual(['login_failed', 'login_succeeded']);
  });
});
