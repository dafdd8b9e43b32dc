import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { reserveForCall } from '../../functions/providers/service/leases/reserve.js';
import { ensureCounters, periodsAt, reserve, type Reservation, type Settlement } from '../../functions/providers/service/quota.js';
import { ReserveBatcher } from '../../functions/providers/service/reserve-batcher.js';
import { SettleBatcher } from '../../functions/providers/service/settle-batcher.js';
import { createLogger } from '../../functions/shared/http/logger.js';
import { tenantSql } from '../../functions/shared/db/round-trip.js';
import { HttpProblem } from '../../functions/shared/http/problem.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant, type TestTenant } from '../support/tenants.js';

/**
 * Group-commit reservations (reserve-batcher.ts, providers.reserve_batch in migration 0012): calls of
 * one batch are judged in order under the counters' locks, so whatever the batching and however many
 * instances (batchers) race, the limit is never passed and a call that fits is never refused.
 */
const { database } = await createTestDatabase({ poolMax: 10 });
const periods = periodsAt(new Date());
type Tenant = Pick<TestTenant, 'orgId' | 'userId'>;

const call = (tokens: number, requestId: string = randomUUID()): Reservation => ({ requestId, tokens, costMicros: tokens, ttlSeconds: 600 });

async function withTokenLimit(t: Tenant, limit: number, leased = 0): Promise<void> {
  await tenantSql(database, t, (q) => ensureCounters(q, t, periods));
  await database.pool!.query(
    `UPDATE providers.quota_counters SET token_limit = $2, tokens_leased = $3 WHERE subject_type = 'user' AND subject_id = $1 AND period = 'daily'`,
    [t.userId, limit, leased],
  );
}

async function counters(t: Tenant) {
  const { rows } = await database.pool!.query(`SELECT subject_type, period, tokens_reserved::int AS reserved FROM providers.quota_counters WHERE org_id = $1 ORDER BY subject_type, period`, [t.orgId]);
  return rows as { subject_type: string; period: string; reserved: number }[];
}

const reservations = async (t: Tenant) => Number((await database.pool!.query(`SELECT count(*) FROM providers.quota_reservations WHERE user_id = $1`, [t.userId])).rows[0].count);

async function outcomes(work: Promise<void>[]) {
  return (await Promise.allSettled(work)).map((o) => (o.status === 'fulfilled' ? 'ok' : o.reason instanceof HttpProblem ? o.reason.status : String(o.reason)));
}

describe('reservation batches', () => {
  it('120 racing calls on one limit across three instances: exactly the 40 that fit are granted, in batches', async () => {
    const t = await createTenant(database, { role: 'member' });
    await withTokenLimit(t, 4_000);
    const instances = [0, 1, 2].map(() => new ReserveBatcher({ database, maxConcurrent: 2 }));
    const results = await outcomes(Array.from({ length: 120 }, (_, i) => instances[i % 3]!.reserve(t, periods, call(100))));
    expect(results.filter((r) => r === 'ok')).toHaveLength(40);
    expect(results.filter((r) => r === 429)).toHaveLength(80);
    expect(await reservations(t)).toBe(40);
    for (const row of await counters(t)) expect(row.reserved).toBe(4_000);
    const stats = instances.reduce((a, b) => ({ batches: a.batches + b.stats.batches, calls: a.calls + b.stats.calls }), { batches: 0, calls: 0 });
    expect(stats.calls).toBe(120);
    // Calls that arrived while a batch was in flight went together.
    expect(stats.batches).toBeLessThan(120);
  });

  it('a refused call leaves its room to the smaller calls after it in the same batch (no false 429)', async () => {
    const t = await createTenant(database, { role: 'member' });
    await withTokenLimit(t, 150);
    const batcher = new ReserveBatcher({ database, maxConcurrent: 1 });
    // The first call occupies the only slot; the next three wait and go together, in arrival order.
    const first = batcher.reserve(t, periods, call(10));
    const rest = [batcher.reserve(t, periods, call(100)), batcher.reserve(t, periods, call(100)), batcher.reserve(t, periods, call(40))];
    expect(await outcomes([first, ...rest])).toEqual(['ok', 'ok', 429, 'ok']);
    expect(batcher.stats).toEqual({ batches: 2, calls: 4 });
    expect((await counters(t)).find((c) => c.subject_type === 'user' && c.period === 'daily')!.reserved).toBe(150);
  });

  it('the 429 names the limit, what is used and in flight, and what the call needed', async () => {
    const t = await createTenant(database, { role: 'member' });
    await withTokenLimit(t, 500);
    const batcher = new ReserveBatcher({ database });
    await batcher.reserve(t, periods, call(300));
    const refused = await batcher.reserve(t, periods, call(300)).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(HttpProblem);
    expect((refused as HttpProblem).message).toBe('your daily token limit would be exceeded: limit 500, used 0, in flight 300, this request needs up to 300');
  });

  it('what live quota leases hold counts against the limit (an instance on leases and one on rows cannot pass it together)', async () => {
    const t = await createTenant(database, { role: 'member' });
    await withTokenLimit(t, 1_000, 950);
    const batcher = new ReserveBatcher({ database });
    expect(await outcomes([batcher.reserve(t, periods, call(100)), batcher.reserve(t, periods, call(50))])).toEqual([429, 'ok']);
  });

  it("the period's first calls create its counters once, outside any batch, and are then judged", async () => {
    const t = await createTenant(database, { role: 'member' });
    const instances = [0, 1].map(() => new ReserveBatcher({ database, maxConcurrent: 2 }));
    expect(await outcomes(Array.from({ length: 16 }, (_, i) => instances[i % 2]!.reserve(t, periods, call(10))))).toEqual(Array(16).fill('ok'));
    const rows = await counters(t);
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row.reserved).toBe(160);
  });

  it('a request id already reserved is refused without touching the counters', async () => {
    const t = await createTenant(database, { role: 'member' });
    await withTokenLimit(t, 10_000);
    const batcher = new ReserveBatcher({ database });
    const id = randomUUID();
    await batcher.reserve(t, periods, call(100, id));
    await expect(batcher.reserve(t, periods, call(100, id))).rejects.toThrow(/already exists/);
    expect((await counters(t)).every((c) => c.reserved === 100)).toBe(true);
  });

  it('a value the database refuses fails its own call only: the batch is split and the others are granted', async () => {
    const t = await createTenant(database, { role: 'member' });
    await withTokenLimit(t, 1_000_000);
    const batcher = new ReserveBatcher({ database, maxConcurrent: 1 });
    const first = batcher.reserve(t, periods, call(1));
    // 1e30 is beyond bigint: SQLSTATE 22003 fails the whole statement it is in.
    const batch = [batcher.reserve(t, periods, call(5)), batcher.reserve(t, periods, call(1e30)), batcher.reserve(t, periods, call(7))];
    const results = await outcomes([first, ...batch]);
    expect(results[0]).toBe('ok');
    expect(results[1]).toBe('ok');
    expect(results[2]).toMatch(/out of range/);
    expect(results[3]).toBe('ok');
    expect((await counters(t)).every((c) => c.reserved === 13)).toBe(true);
  });
});

describe('a refusal that only in-flight reservations cause (leases/reserve.ts reserveForCall)', () => {
  it('is tried once more after the settle window: a call answered just before settles below its worst case and the next one fits', async () => {
    const t = await createTenant(database, { role: 'member' });
    await withTokenLimit(t, 150);
    const batcher = new ReserveBatcher({ database });
    const first = call(100);
    await reserveForCall({ database, reserves: batcher }, t, periods, first);
    // The first call was answered; its settle (20 tokens used) commits right after the next call's first
    // refusal, i.e. inside the retry window (deterministically, whatever the machine's speed).
    const settles = new SettleBatcher({ database, log: createLogger(), busy: () => false });
    let attempts = 0;
    const reserves = {
      reserve: async (...args: Parameters<ReserveBatcher['reserve']>) => {
        attempts++;
        try {
          return await batcher.reserve(...args);
        } finally {
          if (attempts === 1) await settles.settle(t, settlement(first.requestId, 20));
        }
      },
    } as ReserveBatcher;
    await expect(reserveForCall({ database, reserves }, t, periods, call(100))).resolves.toEqual({});
    expect(attempts).toBe(2);
  });

  it('is answered at once when the usage alone leaves no room (nothing to wait for)', async () => {
    const t = await createTenant(database, { role: 'member' });
    await withTokenLimit(t, 150);
    const reserves = new ReserveBatcher({ database });
    const first = call(100);
    await reserveForCall({ database, reserves }, t, periods, first);
    await new SettleBatcher({ database, log: createLogger(), busy: () => false }).settle(t, settlement(first.requestId, 100));
    await expect(reserveForCall({ database, reserves }, t, periods, call(100))).rejects.toMatchObject({ status: 429 });
    expect(reserves.stats.calls).toBe(2);
  });
});

describe('providers.reserve_batch judges only the counters it locked', () => {
  const item = (t: Tenant, tokens: number) => ({ request_id: randomUUID(), org_id: t.orgId, user_id: t.userId, day: periods.day, month: periods.month, tokens, cost: tokens, ttl: 600 });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it("counters created after a batch locked its rows (a period's first calls elsewhere) send the call round again as 'missing': the limit holds", async () => {
    const x = await createTenant(database, { role: 'member' });
    const y = await createTenant(database, { role: 'member' });
    await tenantSql(database, y, (q) => ensureCounters(q, y, periods));
    const pool = database.pool!;
    // Another transaction holds Y's counters, so batch B waits in its lock step, before X's counters exist.
    const holder = await pool.connect();
    await holder.query('begin');
    await holder.query('select id from providers.quota_counters where org_id = $1 for update', [y.orgId]);
    const batchB = pool.connect().then(async (c) => {
      try {
        await c.query('begin; set local role lattice_app');
        const { rows } = await c.query('select verdict from providers.reserve_batch($1::jsonb)', [JSON.stringify([item(y, 1), item(x, 60)])]);
        await c.query('commit');
        return rows.map((r: { verdict: string }) => r.verdict);
      } finally {
        c.release();
      }
    });
    await sleep(200);
    // Meanwhile X's counters are created with a 100-token daily limit and another batch reserves 60 of them.
    await tenantSql(database, x, (q) => ensureCounters(q, x, periods));
    await pool.query(`UPDATE providers.quota_counters SET token_limit = 100 WHERE subject_type = 'user' AND subject_id = $1 AND period = 'daily'`, [x.userId]);
    const other = await pool.connect();
    await other.query('begin; set local role lattice_app');
    expect((await other.query('select verdict from providers.reserve_batch($1::jsonb)', [JSON.stringify([item(x, 60)])])).rows).toEqual([{ verdict: 'ok' }]);
    await holder.query('commit');
    holder.release();
    await sleep(200);
    await other.query('commit');
    other.release();
    expect(await batchB).toEqual(['ok', 'missing']);
    const { rows } = await pool.query(`SELECT token_limit::int AS lim, tokens_reserved::int AS reserved FROM providers.quota_counters WHERE subject_type = 'user' AND subject_id = $1 AND period = 'daily'`, [x.userId]);
    expect(rows[0]).toEqual({ lim: 100, reserved: 60 });
  });
});

describe('noisy neighbours and the counter the 429 names', () => {
  it("one organization's counter held elsewhere holds the others' calls at most the batch lock_timeout; its own calls wait for the lock as before", async () => {
    const stuck = await createTenant(database, { role: 'member' });
    const other = await createTenant(database, { role: 'member' });
    await withTokenLimit(stuck, 10_000);
    await withTokenLimit(other, 10_000);
    const holder = await database.pool!.connect();
    await holder.query('begin');
    await holder.query('select id from providers.quota_counters where org_id = $1 for update', [stuck.orgId]);
    const batcher = new ReserveBatcher({ database, maxConcurrent: 1 });
    const first = batcher.reserve(stuck, periods, call(10));
    const queued = [batcher.reserve(stuck, periods, call(10)), batcher.reserve(other, periods, call(10))];
    // The other organization's call is granted while the stuck one's lock is still held.
    await expect(queued[1]).resolves.toBeUndefined();
    let stuckDone = false;
    void Promise.all([first, queued[0]]).then(() => (stuckDone = true));
    expect(stuckDone).toBe(false);
    await holder.query('commit');
    holder.release();
    expect(await outcomes([first, queued[0]!])).toEqual(['ok', 'ok']);
    expect((await counters(stuck)).every((c) => c.reserved === 20)).toBe(true);
  }, 20_000);

  it('a refusal names a counter whose usage alone leaves no room before one full of calls in flight (Retry-After to the period end)', async () => {
    const t = await createTenant(database, { role: 'member' });
    await tenantSql(database, t, (q) => ensureCounters(q, t, periods));
    // The user's daily counter: in flight 900 of 1,000; the org's daily counter: used 100 of 100.
    await database.pool!.query(`UPDATE providers.quota_counters SET token_limit = 1000, tokens_reserved = 900 WHERE subject_type = 'user' AND subject_id = $1 AND period = 'daily'`, [t.userId]);
    await database.pool!.query(`UPDATE providers.quota_counters SET token_limit = 100, tokens_used = 100 WHERE subject_type = 'org' AND subject_id = $1 AND period = 'daily'`, [t.orgId]);
    for (const reserveOnce of [(r: Reservation) => new ReserveBatcher({ database }).reserve(t, periods, r), (r: Reservation) => reserve(database, t, periods, r)]) {
      const refused = (await reserveOnce(call(200)).then(() => undefined, (e: unknown) => e)) as HttpProblem;
      expect(refused.status).toBe(429);
      expect(refused.extra.limit).toMatchObject({ subject: 'org', limit: 100, used: 100 });
      expect(Number(refused.extra.headers!['Retry-After'])).toBeGreaterThan(1);
    }
  });

  it('the one-call reservation counts live leases too', async () => {
    const t = await createTenant(database, { role: 'member' });
    await withTokenLimit(t, 100, 100);
    await expect(reserve(database, t, periods, call(50))).rejects.toMatchObject({ status: 429 });
  });
});

function settlement(requestId: string, used: number): Settlement {
  return { requestId, provider: 'openai', model: 'gpt-4o-mini', promptTokens: used, completionTokens: 0, costMicros: used, latencyMs: 1, status: 200, stream: false, keySource: 'platform' };
}
