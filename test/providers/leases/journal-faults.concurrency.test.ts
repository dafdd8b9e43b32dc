import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../../functions/shared/db/database.js';
import { QuotaLeases, type LeaseTicket } from '../../../functions/providers/service/leases/index.js';
import { reserveForCall } from '../../../functions/providers/service/leases/reserve.js';
import { leasedSettleInput } from '../../../functions/providers/service/leases/settle-ticket.js';
import { settleLeasedBatch } from '../../../functions/providers/service/leases/settle.js';
import { periodsAt, requestLogPayload, type Settlement } from '../../../functions/providers/service/quota.js';
import { SettleBatcher } from '../../../functions/providers/service/settle-batcher.js';
import { createLogger } from '../../../functions/shared/http/logger.js';
import { createTestDatabase } from '../../support/db.js';
import { setLimits } from '../../support/gateway.js';
import { createTenant } from '../../support/tenants.js';

/**
 * The leased-call journal and settle under faults (found by review, each failed before its fix):
 * - a journal entry dropped because its settle went in the same batch is queued again when that batch
 *   fails, so the call gets its row long before the settle's backoff ends (a SIGKILL meanwhile leaves
 *   the expiry job something to report);
 * - a settle given up after a try that committed with its reply lost (a failover) must not leave the
 *   holder's memory above its lease row: the instance would serve past the limit;
 * - a journal insert racing a leased settle batch over the same request ids waits for it instead of
 *   deadlocking (both write the rows in request-id order).
 */
const { database } = await createTestDatabase();
const periods = periodsAt(new Date());

/**
 * The same database, but leased settle statements misbehave while `mode` says so:
 *  - 'throw': the statement never runs, the client sees a dropped connection (transient);
 *  - 'commit-then-throw': the statement commits, then the reply is "lost" (transient error).
 */
function flaky(db: Database) {
  /** What the next leased settle statements do, in order; 'ok' once the plan is empty (unless `always`). */
  const ctl = { plan: [] as ('slow' | 'throw' | 'commit-then-throw')[], always: undefined as 'throw' | undefined };
  const pool = db.pool!;
  const wrapped = new WeakMap<pg.PoolClient, pg.PoolClient>();
  const wrapClient = (client: pg.PoolClient) => {
    let w = wrapped.get(client);
    if (w) return w;
    const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
    w = new Proxy(client, {
      get(target, prop, recv) {
        if (prop !== 'query') return Reflect.get(target, prop, recv);
        return async (...args: unknown[]) => {
          if (typeof args[0] !== 'string' || !/llc_lease_settle/.test(args[0])) return query(...args);
          const step = ctl.plan.shift() ?? ctl.always;
          if (step === 'throw') throw new Error('Connection terminated unexpectedly');
          if (step === 'slow') await new Promise((r) => setTimeout(r, 300));
          const out = await query(...args);
          if (step === 'commit-then-throw') throw new Error('Connection terminated unexpectedly');
          return out;
        };
      },
    });
    wrapped.set(client, w);
    return w;
  };
  const fakePool = new Proxy(pool, {
    get(target, prop, recv) {
      if (prop === 'connect') return async () => wrapClient(await pool.connect());
      return Reflect.get(target, prop, recv);
    },
  });
  const out = Object.create(db) as Database;
  Object.defineProperty(out, 'pool', { value: fakePool });
  return { db: out, ctl };
}

async function setup(limit: number) {
  const t = await createTenant(database, { role: 'member' });
  const tenant = { orgId: t.orgId, userId: t.userId };
  await setLimits(database, t.orgId, t.userId, { daily_token_limit: limit });
  const quotaLeases = new QuotaLeases(database, { holder: `review-${randomUUID()}` });
  return { t, tenant, quotaLeases };
}

const settlement = (ticket: LeaseTicket, tokens: number): Settlement => ({
  requestId: ticket.requestId, provider: 'openai', model: 'gpt-4o-mini', promptTokens: tokens, completionTokens: 0,
  costMicros: 0, latencyMs: 1, status: 200, stream: false, keySource: 'platform', lease: ticket,
});

async function rowState(requestId: string) {
  const { rows } = await database.pool!.query(`SELECT state FROM providers.quota_reservations WHERE request_id = $1`, [requestId]);
  return (rows[0] as { state: string } | undefined)?.state;
}

describe('the leased-call journal and settle under faults', () => {
  it('a journal entry dropped because its settle is in the batch is written anyway when that settle fails, long before its retry', async () => {
    const { tenant, quotaLeases } = await setup(1_000_000);
    const { db, ctl } = flaky(database);
    // One batch slot (as when both are busy under load) and a long first backoff.
    const settles = new SettleBatcher({ database: db, log: createLogger(), busy: () => true, maxWaitMs: 5, maxConcurrent: 1, retryDelaysMs: [30_000] });
    const serve = async () => (await reserveForCall({ database, quotaLeases, settles }, tenant, periods, { requestId: randomUUID(), tokens: 100, costMicros: 0, ttlSeconds: 600 })).lease!;
    // Y's batch is slow; X's batch fails, and so does its one-call retry (then it waits out 30 s).
    ctl.plan = ['slow', 'throw', 'throw'];
    const y = await serve();
    void settles.settle(tenant, settlement(y, 10));
    await new Promise((r) => setTimeout(r, 30)); // Y's batch is committing (slowly): the slot is taken
    const x = await serve();
    // X answers while Y's batch commits: its settle and its journal entry wait for the same next batch,
    // which drops the entry; that settle then fails once (a dropped connection) and waits out 30 s.
    void settles.settle(tenant, settlement(x, 10));
    const deadline = Date.now() + 10_000;
    while (!(await rowState(x.requestId)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // Were the instance SIGKILLed now, the expiry job would find and report X.
    expect(await rowState(x.requestId), 'journal row well before the settle retry').toBe('leased');
    await settles.close();
  });

  it("a window whose journal-and-settle statement fails journals its entries on their own and settles its calls one by one", async () => {
    const { tenant, quotaLeases } = await setup(1_000_000);
    const { db, ctl } = flaky(database);
    const settles = new SettleBatcher({ database: db, log: createLogger(), busy: () => true, maxWaitMs: 60_000, journalWaitMs: 60_000 });
    const serve = async () => (await reserveForCall({ database, quotaLeases, settles }, tenant, periods, { requestId: randomUUID(), tokens: 100, costMicros: 0, ttlSeconds: 600 })).lease!;
    const [a, b] = await Promise.all([serve(), serve()]);
    // The window's statement (a's settle with b's entry) fails; what follows does not.
    ctl.plan = ['throw'];
    const outcome = settles.settle(tenant, settlement(a!, 10));
    await settles.flush();
    expect(await outcome).toMatchObject({ settled: true });
    expect(await rowState(a!.requestId)).toBe('settled');
    expect(await rowState(b!.requestId), "b's entry written alone").toBe('leased');
    expect(settles.stats.journaled).toBe(1);
    const last = settles.settle(tenant, settlement(b!, 10));
    await settles.close();
    expect(await last).toMatchObject({ settled: true });
    await quotaLeases.returnAll();
  });

  it('a settle whose first try committed (reply lost) and whose retries all fail leaves memory no higher than the lease row: no overspend', async () => {
    const LIMIT = 1_000;
    const { t, tenant, quotaLeases } = await setup(LIMIT);
    const { db, ctl } = flaky(database);
    const settles = new SettleBatcher({ database: db, log: createLogger(), busy: () => false, retryDelaysMs: [10, 10] });
    const a = (await reserveForCall({ database, quotaLeases, settles }, tenant, periods, { requestId: randomUUID(), tokens: LIMIT, costMicros: 0, ttlSeconds: 600 })).lease!;
    await settles.flush();
    ctl.plan = ['commit-then-throw'];
    ctl.always = 'throw'; // the database stays unreachable for the retries (here 2 x 10 ms; in production ~12 s)
    expect(await settles.settle(tenant, settlement(a, LIMIT))).toMatchObject({ settled: false });
    ctl.always = undefined;
    const held = async () => Number((await database.pool!.query(
      `SELECT coalesce(sum(l.tokens_held), 0) AS held FROM providers.quota_leases l JOIN providers.quota_counters c ON c.id = l.counter_id WHERE c.subject_type = 'user' AND c.subject_id = $1 AND c.period = 'daily'`, [t.userId])).rows[0].held);
    const used = async () => Number((await database.pool!.query(
      `SELECT tokens_used FROM providers.quota_counters WHERE subject_type = 'user' AND subject_id = $1 AND period = 'daily'`, [t.userId])).rows[0].tokens_used);
    // The holder's memory holds no more than its lease row does, and nothing is in flight any more.
    const mine = quotaLeases.snapshot().find((l) => l.key.startsWith(`user:${t.userId}:daily`))!;
    expect(mine.inflight.tokens).toBe(0);
    expect(mine.held.tokens).toBeLessThanOrEqual(await held());
    // So the next call is refused (the first try committed: the limit is spent) or, if served, stays within the limit.
    const b = await reserveForCall({ database, quotaLeases, settles }, tenant, periods, { requestId: randomUUID(), tokens: LIMIT, costMicros: 0, ttlSeconds: 600 }).catch((err: unknown) => err);
    if (b instanceof Error) expect(b).toMatchObject({ status: 429, code: 'quota-exceeded' });
    else await settles.settle(tenant, settlement((b as { lease: LeaseTicket }).lease, LIMIT));
    expect(await used(), 'used <= limit').toBeLessThanOrEqual(LIMIT);
    await quotaLeases.returnAll();
  });

  it('a journal insert racing a leased settle batch over the same request ids waits for it (no deadlock): both write rows in request-id order', async () => {
    const { tenant, quotaLeases } = await setup(1_000_000);
    const settles = new SettleBatcher({ database, log: createLogger(), busy: () => true, maxWaitMs: 60_000, journalWaitMs: 60_000 });
    const serve = async (id: string) => (await reserveForCall({ database, quotaLeases, settles }, tenant, periods, { requestId: id, tokens: 100, costMicros: 0, ttlSeconds: 600 })).lease!;
    const [idA, idB] = [randomUUID(), randomUUID()].sort();
    const A = await serve(idA!);
    const B = await serve(idB!);
    const entry = (x: LeaseTicket) => ({ request_id: x.requestId, org_id: tenant.orgId, user_id: tenant.userId, tokens: 100, cost: 0, counter_ids: [...new Set(x.parts.map((p) => p.counterId))], expires_at: new Date(Date.now() + 60_000).toISOString() });
    const journalConn = await database.pool!.connect();
    let outcome: PromiseSettledResult<unknown>[] = [];
    try {
      // A journal transaction has written A's row and is about to write B's.
      await journalConn.query('BEGIN');
      await journalConn.query(`select set_config('role', $1, true)`, [database.appRole]);
      await journalConn.query('select providers.journal_leased($1::jsonb)', [JSON.stringify([entry(A)])]);
      // The settle batch, B having arrived first: it must wait on A before taking B, or the journal's B would wait on it.
      const calls = [B, A].map((ticket) => {
        const s = settlement(ticket, 10);
        const now = new Date();
        return { tenant, input: leasedSettleInput(s, ticket, 10, now, requestLogPayload(s, now)) };
      });
      const batch = settleLeasedBatch(database, calls);
      batch.catch(() => {});
      await new Promise((r) => setTimeout(r, 200));
      const journal = journalConn.query('select providers.journal_leased($1::jsonb)', [JSON.stringify([entry(B)])]).then(() => journalConn.query('COMMIT'));
      journal.catch(() => {});
      outcome = await Promise.allSettled([batch, journal]);
    } finally {
      await journalConn.query('ROLLBACK').catch(() => {});
      journalConn.release();
    }
    expect(outcome.map((r) => (r.status === 'rejected' ? (r.reason as { code?: string }).code : 'ok')), 'no deadlock').toEqual(['ok', 'ok']);
    expect(await rowState(A.requestId)).toBe('settled');
    expect(await rowState(B.requestId)).toBe('settled');
    await quotaLeases.returnAll();
  });
});
