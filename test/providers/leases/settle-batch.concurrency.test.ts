import { describe, expect, it } from 'vitest';
import { periodsAt, requestLogEventId, reserve } from '../../../functions/providers/service/quota.js';
import { settleLeasedBatch, settleLeasedStatement, type LeasedSettleInput } from '../../../functions/providers/service/leases/settle.js';
import type { SqlTenant } from '../../../functions/shared/db/round-trip.js';
import { createTestDatabase } from '../../support/db.js';
import { createTenant } from '../../support/tenants.js';

/**
 * Leased settles of a batch in one statement across tenants (providers.settle_leased_batch, migration
 * 0013; settle-batcher.ts writeLeased): each call moves only its own organization's counters and the
 * leases of those counters, exactly once by request id; calls taking from one lease take, in request-id
 * order, at most what it holds; and the batch, which locks every counter it touches at once in id order,
 * commits alongside one-call settles of the same counters without deadlocking.
 */
const { database } = await createTestDatabase({ poolMax: 20 });
const periods = periodsAt(new Date());

const countersOf = async (t: SqlTenant) => (await database.pool!.query(
  `SELECT id::text, subject_type FROM providers.quota_counters WHERE org_id = $1 AND (subject_type = 'org' OR subject_id = $2) ORDER BY id`, [t.orgId, t.userId])).rows as { id: string; subject_type: string }[];

async function member(orgId?: string): Promise<SqlTenant> {
  const t = await createTenant(database, { role: 'member', ...(orgId ? { orgId } : {}) });
  // Creates the user's and the org's counters of the period.
  await reserve(database, t, periods, { requestId: `warm-${t.userId}`, tokens: 1, costMicros: 0, ttlSeconds: 60 });
  return { orgId: t.orgId, userId: t.userId };
}

async function input(t: SqlTenant, requestId: string, tokens = 1, parts?: LeasedSettleInput['parts']): Promise<LeasedSettleInput> {
  return {
    requestId, tokens, costMicros: 1, provider: 'openai', model: 'm', day: periods.day, promptTokens: tokens, completionTokens: 0,
    eventId: requestLogEventId(requestId), occurredAt: new Date().toISOString(), payload: {},
    parts: parts ?? (await countersOf(t)).map((c) => ({ counterId: c.id, leaseId: null, take: { tokens, cost: 1 } })), worst: { tokens, cost: 1 },
  };
}

/** A holder's lease of `tokens` on a counter, with the counter's leased raised to match (leased = Σ held). */
async function leaseOn(orgId: string, counterId: string, tokens: number): Promise<string> {
  const { rows } = await database.pool!.query(
    `INSERT INTO providers.quota_leases (org_id, counter_id, holder, tokens_held, cost_held_micros, serve_until, expires_at)
     VALUES ($1, $2, $3, $4, 0, now() + interval '1 minute', now() + interval '2 minutes') RETURNING id`, [orgId, counterId, `holder-${counterId}`, tokens]);
  await database.pool!.query(`UPDATE providers.quota_counters SET tokens_leased = tokens_leased + $2 WHERE id = $1`, [counterId, tokens]);
  return rows[0].id as string;
}

const used = async (counterId: string) => Number((await database.pool!.query(`SELECT tokens_used FROM providers.quota_counters WHERE id = $1`, [counterId])).rows[0].tokens_used);

describe('leased settle batches', () => {
  it('each call of a batch spanning organizations moves its own counters once; a repeated batch changes nothing', async () => {
    const a = await member();
    const b = await member();
    const calls = [{ tenant: a, input: await input(a, `x-${a.userId}`, 5) }, { tenant: b, input: await input(b, `x-${b.userId}`, 7) }];
    const before = await Promise.all([...(await countersOf(a)), ...(await countersOf(b))].map((c) => used(c.id)));
    const first = await settleLeasedBatch(database, calls);
    expect([...first.values()].map((r) => r.settled)).toEqual([true, true]);
    const again = await settleLeasedBatch(database, calls);
    expect([...again.values()].map((r) => r.settled)).toEqual([false, false]);
    const after = await Promise.all([...(await countersOf(a)), ...(await countersOf(b))].map((c) => used(c.id)));
    expect(after.map((v, i) => v - before[i]!)).toEqual([5, 5, 5, 5, 7, 7, 7, 7]);
  });

  it("a call naming another organization's counter or lease moves nothing there", async () => {
    const a = await member();
    const victim = await member();
    const [theirs] = await countersOf(victim);
    const lease = await leaseOn(victim.orgId, theirs!.id, 100);
    const before = await used(theirs!.id);
    const parts = [{ counterId: theirs!.id, leaseId: lease, take: { tokens: 50, cost: 0 } }];
    const result = await settleLeasedBatch(database, [{ tenant: a, input: await input(a, `evil-${a.userId}`, 50, parts) }]);
    expect(result.get(`evil-${a.userId}`)).toMatchObject({ settled: true, consumed: new Map() });
    expect(await used(theirs!.id)).toBe(before);
    const { rows } = await database.pool!.query(`SELECT tokens_held::int AS held FROM providers.quota_leases WHERE id = $1`, [lease]);
    expect(rows).toEqual([{ held: 100 }]);
  });

  it('calls taking from one lease take, in request-id order, at most what it holds; the counter leased drops by the same', async () => {
    const a = await member();
    const [counter] = await countersOf(a);
    const lease = await leaseOn(a.orgId, counter!.id, 100);
    const parts = [{ counterId: counter!.id, leaseId: lease, take: { tokens: 40, cost: 0 } }];
    const ids = ['c1', 'c2', 'c3'].map((k) => `${k}-${a.userId}`);
    const result = await settleLeasedBatch(database, await Promise.all([...ids].reverse().map(async (id) => ({ tenant: a, input: await input(a, id, 40, parts) }))));
    expect(ids.map((id) => result.get(id)!.consumed.get(lease)?.tokens)).toEqual([40, 40, 20]);
    const { rows } = await database.pool!.query(
      `SELECT l.tokens_held::int AS held, c.tokens_leased::int AS leased FROM providers.quota_leases l JOIN providers.quota_counters c ON c.id = l.counter_id WHERE l.id = $1`, [lease]);
    expect(rows).toEqual([{ held: 0, leased: 0 }]);
  });

  it('batches over two users of one org race one-call settles of the same counters: all commit, none deadlocks', async () => {
    const u1 = await member();
    const u2 = await member(u1.orgId);
    const rounds = await Promise.allSettled(Array.from({ length: 10 }, async (_, i) => Promise.all([
      settleLeasedBatch(database, [{ tenant: u1, input: await input(u1, `r${i}-a-${u1.userId}`) }, { tenant: u2, input: await input(u2, `r${i}-b-${u2.userId}`) }]),
      settleLeasedStatement(database, u2, await input(u2, `r${i}-s-${u2.userId}`)),
      settleLeasedStatement(database, u1, await input(u1, `r${i}-t-${u1.userId}`)),
    ])));
    expect(rounds.map((r) => (r.status === 'rejected' ? (r.reason as { code?: string }).code ?? String(r.reason) : 'ok'))).toEqual(Array(10).fill('ok'));
    const orgDaily = (await countersOf(u1)).find((c) => c.subject_type === 'org')!;
    expect(await used(orgDaily.id)).toBe(40);
  });
});
