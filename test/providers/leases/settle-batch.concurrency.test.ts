import { describe, expect, it } from 'vitest';
import { periodsAt, requestLogEventId, reserve } from '../../../functions/providers/service/quota.js';
import { leasedSettleBatch, settleLeasedStatement, type LeasedSettleInput } from '../../../functions/providers/service/leases/settle.js';
import { tenantsSql, type SqlTenant } from '../../../functions/shared/db/round-trip.js';
import { createTestDatabase } from '../../support/db.js';
import { createTenant } from '../../support/tenants.js';

/**
 * Leased settles of one organization in one transaction (settle-batcher.ts writeLeased): the batch
 * locks every counter it touches first, in id order, so it cannot deadlock with a statement that locks
 * a user's counters in id order (another instance's settle, a lease statement, a reservation batch).
 * Without that first lock the batch took the org's counters with its first user's settle and then
 * waited for a second user's counter that such a statement held while waiting for the org's (40P01).
 */
const { database } = await createTestDatabase();
const periods = periodsAt(new Date());

const countersOf = async (t: SqlTenant) => (await database.pool!.query(
  `SELECT id::text, subject_type FROM providers.quota_counters WHERE org_id = $1 AND (subject_type = 'org' OR subject_id = $2) ORDER BY id`, [t.orgId, t.userId])).rows as { id: string; subject_type: string }[];

async function member(orgId?: string): Promise<SqlTenant> {
  const t = await createTenant(database, { role: 'member', ...(orgId ? { orgId } : {}) });
  // Creates the user's and the org's counters of the period.
  await reserve(database, t, periods, { requestId: `warm-${t.userId}`, tokens: 1, costMicros: 0, ttlSeconds: 60 });
  return { orgId: t.orgId, userId: t.userId };
}

async function input(t: SqlTenant, requestId: string): Promise<LeasedSettleInput> {
  return {
    requestId, tokens: 1, costMicros: 1, provider: 'openai', model: 'm', day: periods.day, promptTokens: 1, completionTokens: 0,
    eventId: requestLogEventId(requestId), occurredAt: new Date().toISOString(), payload: '{}',
    parts: (await countersOf(t)).map((c) => ({ counterId: c.id, leaseId: null, take: { tokens: 1, cost: 1 } })), worst: { tokens: 1, cost: 1 },
  };
}

describe('leased settle batches', () => {
  it('a batch of two users of one org and a one-call settle of the second user, racing, both commit (no deadlock)', async () => {
    // Two users of one org where the second user has a counter whose id sorts below the org's counters.
    let pair: [SqlTenant, SqlTenant] | undefined;
    for (let i = 0; i < 30 && !pair; i++) {
      const a = await member();
      const b = await member(a.orgId);
      if ((await countersOf(b))[0]!.subject_type === 'user') pair = [a, b];
    }
    expect(pair).toBeDefined();
    const [u1, u2] = pair!;
    const statements = leasedSettleBatch([{ tenant: u1, input: await input(u1, `b1-${u1.userId}`) }, { tenant: u2, input: await input(u2, `b2-${u2.userId}`) }]);
    // A pause after the first settle stands for the time the batch's other statements take.
    statements.splice(2, 0, { tenant: u1, text: 'SELECT pg_sleep($1::float8)', params: [0.4], prepare: 'llc_test_sleep' });
    const batch = tenantsSql(database, statements);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const single = settleLeasedStatement(database, u2, await input(u2, `s-${u2.userId}`));
    const outcomes = await Promise.allSettled([batch, single]);
    expect(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as { code?: string }).code : 'ok'))).toEqual(['ok', 'ok']);
  });

  it('refuses to mix organizations in one transaction (row-level security would hide the other org\'s counters from the lock)', async () => {
    const a = await member();
    const b = await member();
    expect(() => leasedSettleBatch([{ tenant: a, input: { parts: [] } as never }, { tenant: b, input: { parts: [] } as never }])).toThrow(/one organization/);
  });
});
