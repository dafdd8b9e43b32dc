import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { unusedAfter } from '../../../functions/providers/service/leases/allocator.js';
import { abandonTicket, finishTicket, QuotaLeases, reclaimExpiredLeases, type LeaseTicket } from '../../../functions/providers/service/leases/index.js';
import { periodsAt, settleWithAlerts } from '../../../functions/providers/service/quota.js';
import { putQuota } from '../../../functions/providers/service/quotas.js';
import { withTenant } from '../../../functions/shared/db/tenant.js';
import { HttpProblem } from '../../../functions/shared/http/index.js';
import { createTestDatabase } from '../../support/db.js';
import { createTenant } from '../../support/tenants.js';
import { setLimits, usageTotals } from '../../support/gateway.js';

/**
 * Several lease holders (gateway instances) in one process against real PostgreSQL, each with its own
 * injected clock: grants never pass the limit, settles keep used + leased exact, a killed holder's
 * allowance comes back when its lease expires, an admin's new limit binds within the serve window.
 */
const { database } = await createTestDatabase({ poolMax: 20 });
const NOW = Date.parse('2026-06-15T12:00:00Z');
const periods = periodsAt(new Date(NOW));

function holders(n: number, clock: () => number, policy = {}) {
  return Array.from({ length: n }, (_, i) => new QuotaLeases(database, { holder: `test-holder-${i}-${randomUUID()}`, clock, policy }));
}

async function counter(subjectType: 'user' | 'org', subjectId: string, period: 'daily' | 'monthly' = 'daily') {
  const { rows } = await database.pool!.query(
    `SELECT tokens_used::int AS used, tokens_reserved::int AS reserved, tokens_leased::int AS leased, cost_used_micros::int AS cost_used, cost_leased_micros::int AS cost_leased,
            (SELECT coalesce(sum(tokens_held), 0)::int FROM providers.quota_leases l WHERE l.counter_id = c.id) AS held
     FROM providers.quota_counters c WHERE subject_type = $1 AND subject_id = $2 AND period = $3 AND period_start = $4`,
    [subjectType, subjectId, period, period === 'daily' ? periods.day : periods.month]);
  return rows[0] as { used: number; reserved: number; leased: number; cost_used: number; cost_leased: number; held: number };
}

const settlement = (ticket: LeaseTicket, tokens: number, cost = 0) => ({
  requestId: ticket.requestId, provider: 'openai', model: 'gpt-4o-mini', promptTokens: Math.floor(tokens / 2), completionTokens: tokens - Math.floor(tokens / 2),
  costMicros: cost, latencyMs: 1, status: 200, stream: false, keySource: 'platform' as const, occurredAt: new Date(NOW), lease: ticket,
});

async function tryReserve(h: QuotaLeases, tenant: { orgId: string; userId: string }, tokens: number, cost = 0): Promise<LeaseTicket | HttpProblem> {
  try {
    return await h.reserve(tenant, periods, { requestId: randomUUID(), tokens, costMicros: cost, ttlSeconds: 60 });
  } catch (err) {
    if (err instanceof HttpProblem) return err;
    throw err;
  }
}

describe('quota leases: several holders against one limit', () => {
  it('four holders racing 64 calls grant at most the limit; refusals are 429s naming it; settles leave used = Σ usage and leased = Σ held', async () => {
    const t = await createTenant(database, { role: 'member' });
    const tenant = { orgId: t.orgId, userId: t.userId };
    const W = 70;
    const LIMIT = 20 * W + 30;
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: LIMIT });
    const hs = holders(4, () => NOW);
    const outcomes = await Promise.all(Array.from({ length: 64 }, (_, i) => tryReserve(hs[i % 4]!, tenant, W)));
    const granted = outcomes.filter((o): o is LeaseTicket => !(o instanceof HttpProblem));
    const refused = outcomes.filter((o): o is HttpProblem => o instanceof HttpProblem);
    expect(granted.length * W).toBeLessThanOrEqual(LIMIT);
    // False 429s are bounded: at most one call's worth of room per other holder can sit unused in its lease.
    expect(granted.length).toBeGreaterThanOrEqual(Math.floor(LIMIT / W) - 3);
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(r.extra.limit).toMatchObject({ subject: 'user', period: 'daily', metric: 'tokens', limit: LIMIT });
    }
    let c = await counter('user', t.userId);
    expect(c.leased).toBe(c.held);
    expect(c.used + c.reserved + c.leased).toBeLessThanOrEqual(LIMIT);

    // Each call used less than its worst case; what it did not use stays in its holder's lease.
    const real = (i: number) => 30 + (i % 7);
    await Promise.all(granted.map((g, i) => settleWithAlerts(database, tenant, settlement(g, real(i)))));
    const billed = granted.reduce((s, _, i) => s + real(i), 0);
    c = await counter('user', t.userId);
    expect(c.used).toBe(billed);
    expect(c.leased).toBe(c.held);
    const usage = await usageTotals(database, t.orgId);
    expect(usage.prompt + usage.completion).toBe(billed);
    expect(usage.requests).toBe(granted.length);
    // A repeated settle changes nothing (exactly once by request id).
    expect((await settleWithAlerts(database, tenant, settlement(granted[0]!, 99))).settled).toBe(false);
    expect((await counter('user', t.userId)).used).toBe(billed);

    // Everything goes back on shutdown.
    await Promise.all(hs.map((h) => h.returnAll()));
    expect(await counter('user', t.userId)).toMatchObject({ used: billed, reserved: 0, leased: 0, held: 0 });
    const { rows } = await database.pool!.query(`SELECT count(*)::int AS n FROM providers.quota_leases WHERE org_id = $1`, [t.orgId]);
    expect(rows[0].n).toBe(0);
  });

  it('a cost limit and an org limit are leased the same way; counters without a limit are never leased', async () => {
    const a = await createTenant(database, { role: 'admin' });
    const b = await createTenant(database, { role: 'member', orgId: a.orgId });
    await setLimits(database, a.orgId, null, { daily_cost_limit_micros: 1000 });
    const hs = holders(2, () => NOW);
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => tryReserve(hs[i % 2]!, { orgId: a.orgId, userId: (i % 3 ? a : b).userId }, 10, 60)));
    const granted = outcomes.filter((o): o is LeaseTicket => !(o instanceof HttpProblem));
    expect(granted.length * 60).toBeLessThanOrEqual(1000);
    expect(granted.length).toBeGreaterThanOrEqual(Math.floor(1000 / 60) - 1);
    const refusal = outcomes.find((o): o is HttpProblem => o instanceof HttpProblem)!;
    expect(refusal.extra.limit).toMatchObject({ subject: 'org', metric: 'cost', limit: 1000 });
    const org = await counter('org', a.orgId);
    expect(org.cost_leased).toBeLessThanOrEqual(1000);
    expect(org.leased).toBe(0); // no token limit: no tokens leased
    expect((await counter('user', a.userId)).leased).toBe(0);
    const { rows } = await database.pool!.query(
      `SELECT count(*)::int AS n FROM providers.quota_leases l JOIN providers.quota_counters c ON c.id = l.counter_id WHERE c.subject_type = 'user' AND c.org_id = $1`, [a.orgId]);
    expect(rows[0].n).toBe(0);
    await Promise.all(granted.map((g) => settleWithAlerts(database, { orgId: a.orgId, userId: a.userId }, settlement(g, 10, 50))));
    expect(await counter('org', a.orgId)).toMatchObject({ used: granted.length * 10, cost_used: granted.length * 50 });
    await Promise.all(hs.map((h) => h.returnAll()));
    expect(await counter('org', a.orgId)).toMatchObject({ cost_leased: 0, leased: 0 });
  });

  it('the SQL sizes a slice exactly as allocator.ts unusedAfter() does, shrinking as the room does', async () => {
    for (const room of [100_000, 3_000, 900, 150, 90]) {
      const t = await createTenant(database, { role: 'member' });
      await setLimits(database, t.orgId, t.userId, { daily_token_limit: 100_000 });
      const [first, h] = holders(2, () => NOW);
      // The first holder creates the period's counters; the measured one has seen no demand yet.
      await tryReserve(first!, { orgId: t.orgId, userId: t.userId }, 1).then((x) => x instanceof HttpProblem || abandonTicket(x));
      await first!.returnAll();
      await database.pool!.query(`UPDATE providers.quota_counters SET tokens_used = $2 WHERE subject_id = $1 AND period = 'daily'`, [t.userId, 100_000 - room]);
      const r = await tryReserve(h!, { orgId: t.orgId, userId: t.userId }, 100);
      const expected = unusedAfter(room, 100, 100 * h!.policy.firstCalls, 0, h!.policy.share);
      expect(r instanceof HttpProblem).toBe(expected < 100);
      expect((await counter('user', t.userId)).leased).toBe(expected);
    }
  });

  it('an idle lease goes back by itself, and the day rolling over leaves yesterday\'s lease idle: it goes back too', async () => {
    const t = await createTenant(database, { role: 'member' });
    const tenant = { orgId: t.orgId, userId: t.userId };
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: 1000 });
    let now = NOW;
    const [h] = holders(1, () => now);
    const busy = (await tryReserve(h!, tenant, 100)) as LeaseTicket;
    await settleWithAlerts(database, tenant, settlement(busy, 60));
    expect((await counter('user', t.userId)).leased).toBeGreaterThan(0);
    // Not idle yet: nothing moves.
    now += h!.policy.idleMs - 1;
    await h!.returnIdle();
    expect((await counter('user', t.userId)).leased).toBeGreaterThan(0);
    // The next day: a call there leases the new day's counter; the sweep it triggers gives yesterday's back.
    now += 1 + 86_400_000;
    const tomorrow = periodsAt(new Date(now));
    const next = await h!.reserve(tenant, tomorrow, { requestId: randomUUID(), tokens: 100, costMicros: 0, ttlSeconds: 60 });
    await h!.returnIdle();
    expect(await counter('user', t.userId)).toMatchObject({ used: 60, leased: 0, held: 0 });
    abandonTicket(next);
    now += h!.policy.idleMs;
    await h!.returnIdle();
    const { rows } = await database.pool!.query(`SELECT count(*)::int AS n FROM providers.quota_leases WHERE org_id = $1`, [t.orgId]);
    expect(rows[0].n).toBe(0);
    expect(h!.snapshot()).toEqual([]);
  });

  it('a call that never settles holds its worst case only until the reservation TTL (graceMs), as a reservation row would', async () => {
    const t = await createTenant(database, { role: 'member' });
    const tenant = { orgId: t.orgId, userId: t.userId };
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: 300 });
    let now = NOW;
    const [h] = holders(1, () => now, { share: 1 });
    expect(await tryReserve(h!, tenant, 300)).not.toBeInstanceOf(HttpProblem); // never settled
    expect(await tryReserve(h!, tenant, 300)).toBeInstanceOf(HttpProblem);
    now += h!.policy.graceMs + 1;
    const later = await tryReserve(h!, tenant, 300);
    // The sweep that call triggered let the lost call go: the next one fits again.
    const again = later instanceof HttpProblem ? await tryReserve(h!, tenant, 300) : later;
    expect(again).not.toBeInstanceOf(HttpProblem);
    abandonTicket(again as LeaseTicket);
    await h!.returnAll();
    expect((await counter('user', t.userId)).leased).toBe(0);
  });

  it("a killed holder's allowance comes back when its lease expires, not before", async () => {
    const t = await createTenant(database, { role: 'member' });
    const tenant = { orgId: t.orgId, userId: t.userId };
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: 1000 });
    let now = NOW;
    const [killed, survivor] = holders(2, () => now, { share: 1, firstCalls: 100 });
    // The doomed holder takes everything; one of its calls is in flight when it dies (never settles).
    const inFlight = await tryReserve(killed!, tenant, 100);
    expect(inFlight).not.toBeInstanceOf(HttpProblem);
    expect((await counter('user', t.userId)).leased).toBe(1000);
    expect(await tryReserve(survivor!, tenant, 100)).toBeInstanceOf(HttpProblem);

    // Past the serve window but inside the grace: the in-flight call might still be running upstream.
    now += killed!.policy.serveMs + 1000;
    expect((await reclaimExpiredLeases(database, new Date(now))).reclaimed).toBe(0);
    expect(await tryReserve(survivor!, tenant, 100)).toBeInstanceOf(HttpProblem);

    now += killed!.policy.graceMs;
    expect((await reclaimExpiredLeases(database, new Date(now))).reclaimed).toBeGreaterThanOrEqual(1);
    expect((await counter('user', t.userId)).leased).toBe(0);
    const ok = await tryReserve(survivor!, tenant, 100);
    expect(ok).not.toBeInstanceOf(HttpProblem);
    // The late settle of the dead holder's call (a retry elsewhere) still bills, and takes nothing from any lease.
    await settleWithAlerts(database, tenant, settlement(inFlight as LeaseTicket, 40));
    const c = await counter('user', t.userId);
    expect(c.used).toBe(40);
    expect(c.leased).toBe(c.held);
    abandonTicket(ok as LeaseTicket);
    await survivor!.returnAll();
    expect((await counter('user', t.userId)).leased).toBe(0);
  });

  it("an admin's lower limit binds every holder within the serve window", async () => {
    const admin = await createTenant(database, { role: 'admin' });
    const tenant = { orgId: admin.orgId, userId: admin.userId };
    // The admin's PUT /quotas/users/{id}, committed (the holders must see it): the route's transaction, as inTenant runs it.
    const setDailyLimit = (limit: number) =>
      withTenant(database, tenant, (tx) => putQuota(tx, { ...tenant, role: 'admin' }, { subject: { type: 'user', id: admin.userId }, limits: { daily_token_limit: limit } }));
    let now = NOW;
    const hs = holders(3, () => now, { share: 1 });
    // putQuota writes the current (wall-clock) period's counters; the holders use the same periods here.
    const today = periodsAt(new Date());
    await setDailyLimit(10_000);
    const reserveToday = (h: QuotaLeases) => h.reserve(tenant, today, { requestId: randomUUID(), tokens: 100, costMicros: 0, ttlSeconds: 60 }).catch((e) => e as HttpProblem);
    for (const h of hs) expect(await reserveToday(h)).not.toBeInstanceOf(HttpProblem);
    const { rows: before } = await database.pool!.query(`SELECT tokens_leased::int AS leased FROM providers.quota_counters WHERE subject_id = $1 AND period = 'daily'`, [admin.userId]);
    expect(before[0].leased).toBeGreaterThan(300);

    await setDailyLimit(250);
    // Inside the window the holders may still serve from what they were granted (bounded by it) …
    now += hs[0]!.policy.serveMs;
    // … after it, every holder renews against the new limit: 3 calls of 100 are in flight, so nothing fits.
    for (const h of hs) {
      const r = await reserveToday(h);
      expect(r).toBeInstanceOf(HttpProblem);
      expect((r as HttpProblem).extra.limit).toMatchObject({ limit: 250 });
    }
    const { rows: after } = await database.pool!.query(
      `SELECT tokens_used::int + tokens_reserved::int + tokens_leased::int AS committed FROM providers.quota_counters WHERE subject_id = $1 AND period = 'daily'`, [admin.userId]);
    // Only the in-flight calls stay held (they were admitted under the old limit).
    expect(after[0].committed).toBe(300);
    await Promise.all(hs.map((h) => h.returnAll()));
  });

  it('a lease statement racing a settle that already committed does not grant the settled call\'s worst case again (bench race overspend)', async () => {
    const t = await createTenant(database, { role: 'member' });
    const tenant = { orgId: t.orgId, userId: t.userId };
    const W = 50;
    const LIMIT = 2 * W;
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: LIMIT });
    // share 1: the first slice takes the whole limit, so both calls are served from it.
    const [h] = holders(1, () => NOW, { share: 1 });
    const t1 = await tryReserve(h!, tenant, W);
    const t2 = await tryReserve(h!, tenant, W);
    if (t1 instanceof HttpProblem || t2 instanceof HttpProblem) throw new Error('both calls fit the limit');
    // t1's settle commits (20 of its 50 go to used) but its answer has not reached the holder yet: the
    // holder still counts t1 in flight when it asks for more (what the settle batcher's timing produces).
    await settleWithAlerts(database, tenant, settlement({ ...t1, done: true }, 20));
    let c = await counter('user', t.userId);
    expect(c).toMatchObject({ used: 20, leased: LIMIT - 20 });
    const t3 = await tryReserve(h!, tenant, W);
    c = await counter('user', t.userId);
    expect(c.used + c.reserved + c.leased).toBeLessThanOrEqual(LIMIT);
    // The answer arrives; only t2 (50) is in flight, 20 used: 30 of room, less than a call.
    finishTicket(t1, new Map([[t1.parts[0]!.leaseId!, { tokens: 20, cost: 0 }]]));
    const t4 = await tryReserve(h!, tenant, W);
    expect(t3).toBeInstanceOf(HttpProblem);
    expect(t4).toBeInstanceOf(HttpProblem);
    // Every call granted uses its whole worst case: still within the limit.
    await settleWithAlerts(database, tenant, settlement(t2, W));
    c = await counter('user', t.userId);
    expect(c.used).toBe(20 + W);
    expect(c.used + c.reserved + c.leased).toBeLessThanOrEqual(LIMIT);
    await h!.returnAll();
    expect(await counter('user', t.userId)).toMatchObject({ used: 20 + W, leased: 0, held: 0 });
  });
  it('a settle repeated after its first try committed and the reply was lost moves memory down as much as the first took: the holder never serves beyond its lease row', async () => {
    const t = await createTenant(database, { role: 'member' });
    const tenant = { orgId: t.orgId, userId: t.userId };
    const W = 50;
    const LIMIT = 4 * W;
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: LIMIT });
    const [h] = holders(1, () => NOW, { share: 1 });
    const t1 = await tryReserve(h!, tenant, W);
    if (t1 instanceof HttpProblem) throw new Error('the call fits the limit');
    // The first try commits (W of the lease becomes used) and its reply never arrives: the ticket is untouched.
    await settleWithAlerts(database, tenant, settlement({ ...t1, done: true }, W));
    // The retry finds the call settled (settled: false) and must still end the ticket's hold and give up what the first try took.
    expect(await settleWithAlerts(database, tenant, settlement(t1, W))).toMatchObject({ settled: false });
    const c = await counter('user', t.userId);
    const mine = h!.snapshot().find((l) => l.key.startsWith(`user:${t.userId}:daily`))!;
    expect(mine.inflight.tokens).toBe(0);
    expect(mine.held.tokens, 'memory holds no more than the lease row').toBeLessThanOrEqual(c.held);
    // So every call it serves from here on is covered by the row: used + held stays within the limit.
    const served: LeaseTicket[] = [];
    for (;;) {
      const next = await tryReserve(h!, tenant, W);
      if (next instanceof HttpProblem) break;
      served.push(next);
    }
    expect(c.used + served.length * W).toBeLessThanOrEqual(LIMIT);
    for (const s of served) await settleWithAlerts(database, tenant, settlement(s, W));
    expect((await counter('user', t.userId)).used).toBeLessThanOrEqual(LIMIT);
    await h!.returnAll();
  });

  it('fragments do not strand the room: a holder that refuses gives its unused slice back, so a sequential client over four holders is refused at most holders − 1 times in a row while a call still fits', async () => {
    const t = await createTenant(database, { role: 'member' });
    const tenant = { orgId: t.orgId, userId: t.userId };
    const W = 44;
    const USED = 28;
    const LIMIT = 40 * USED;
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: LIMIT });
    const hs = holders(4, () => NOW);
    let used = 0;
    let inARow = 0;
    let worstRun = 0;
    for (let i = 0; i < 120; i++) {
      const outcome = await tryReserve(hs[i % 4]!, tenant, W);
      if (outcome instanceof HttpProblem) {
        // A refusal while the limit still has a call's worth of room is a false one.
        if (LIMIT - used >= W) worstRun = Math.max(worstRun, ++inARow);
        continue;
      }
      inARow = 0;
      await settleWithAlerts(database, tenant, settlement(outcome, USED));
      used += USED;
    }
    expect(used).toBeLessThanOrEqual(LIMIT);
    // The room ran out, not the attempts: at the end less than a call's worth is left.
    expect(LIMIT - used).toBeLessThan(W);
    // Each run of false refusals ends within holders − 1 (before the give-back: every attempt once
    // fragments formed, 83 of 120 in the bench race).
    expect(worstRun).toBeLessThanOrEqual(3);
  });
});
