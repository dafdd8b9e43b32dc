import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CounterLease, DEFAULT_LEASE_POLICY, sliceTarget } from '../../../functions/providers/service/leases/allocator.js';
import { QuotaLeases } from '../../../functions/providers/service/leases/index.js';
import { applyRenewal, renewLeases, type RenewRow } from '../../../functions/providers/service/leases/renewal.js';
import { periodsAt } from '../../../functions/providers/service/quota.js';
import { putQuota } from '../../../functions/providers/service/quotas.js';
import type { Database } from '../../../functions/shared/db/index.js';
import { recordingDatabase } from '../../support/recording-db.js';
import { reclaimExpiredLeases, type LeaseTicket } from '../../../functions/providers/service/leases/index.js';
import { settleLeased } from '../../../functions/providers/service/leases/settle-ticket.js';
import type { Settlement } from '../../../functions/providers/service/quota.js';
import { withTenant } from '../../../functions/shared/db/tenant.js';
import { HttpProblem } from '../../../functions/shared/http/index.js';
import { createTestDatabase } from '../../support/db.js';
import { createTenant } from '../../support/tenants.js';
import { setLimits } from '../../support/gateway.js';

/**
 * Serve windows renewed ahead (leases/renewal.ts, providers.renew_leases in migration 0014), against
 * real PostgreSQL: calls served near the end of a window never wait for a lease statement, one statement
 * renews the counters of every tenant, a changed limit ends the window instead of extending it, an
 * oversized slice is not renewed (the full statement gives the excess back, so another instance is not
 * refused for it), the function waits for no lock and a skipped lease is not retried call after call,
 * and a lease past expires_at is renewed or reclaimed, never both.
 */
const { database } = await createTestDatabase({ poolMax: 10 });
const NOW = Date.parse('2026-06-15T12:00:00Z');
const periods = periodsAt(new Date(NOW));
const SERVE = DEFAULT_LEASE_POLICY.serveMs;

/** The renewal goes in the next turn of the event loop (setImmediate); then its statement is tracked. */
async function renewed(work: Promise<unknown>[]) {
  await new Promise((resolve) => setImmediate(resolve));
  await Promise.all(work);
}

const leaseStatements = (rec: ReturnType<typeof recordingDatabase>) => rec.count('llc_lease_acquire_v2');
const renewStatements = (rec: ReturnType<typeof recordingDatabase>) => rec.count('llc_lease_renew_v1');

function holder(db: Database, clock: () => number, work: Promise<unknown>[], policy = {}) {
  return new QuotaLeases(db, { holder: `renewal-${randomUUID()}`, clock, policy, track: (w) => void work.push(w) });
}

const reserve = (h: QuotaLeases, tenant: { orgId: string; userId: string }, tokens: number, p = periods) =>
  h.reserve(tenant, p, { requestId: randomUUID(), tokens, costMicros: 0, ttlSeconds: 60 }).catch((e: unknown) => {
    if (e instanceof HttpProblem) return e;
    throw e;
  });

/** What the settle of a leased call that used `tokens` carries (no cost: token limits only here). */
const leasedSettlement = (ticket: LeaseTicket, tokens: number): Settlement => ({
  requestId: ticket.requestId, provider: 'openai', model: 'gpt-4o-mini', promptTokens: tokens, completionTokens: 0,
  costMicros: 0, latencyMs: 1, status: 200, stream: false, keySource: 'platform', lease: ticket,
});

async function leaseRow(holderId: string, userId: string) {
  const { rows } = await database.pool!.query(
    `SELECT l.serve_until, l.expires_at, l.tokens_held::int AS held FROM providers.quota_leases l JOIN providers.quota_counters c ON c.id = l.counter_id
     WHERE l.holder = $1 AND c.subject_type = 'user' AND c.subject_id = $2 AND c.period = 'daily'`, [holderId, userId]);
  return rows[0] as { serve_until: Date; expires_at: Date; held: number } | undefined;
}

describe('quota leases: serve windows renewed ahead', () => {
  it('calls in the second half of a window are served from memory and renew it in the background: no call waits for a lease statement, one statement renews every tenant', async () => {
    const limited = await createTenant(database, { role: 'member' });
    const free = await createTenant(database, { role: 'member' });
    const other = await createTenant(database, { role: 'member' });
    await setLimits(database, limited.orgId, limited.userId, { daily_token_limit: 100_000 });
    const rec = recordingDatabase(database);
    let now = NOW;
    const work: Promise<unknown>[] = [];
    const h = holder(rec.database, () => now, work);
    const tenants = [limited, free, other].map((t) => ({ orgId: t.orgId, userId: t.userId }));
    for (const t of tenants) expect(await reserve(h, t, 100)).not.toBeInstanceOf(HttpProblem);
    const first = leaseStatements(rec);
    expect(first).toBeGreaterThanOrEqual(3);

    // First half of the window: nothing to renew.
    now = NOW + SERVE / 4;
    for (const t of tenants) await reserve(h, t, 100);
    await renewed(work);
    expect(renewStatements(rec)).toBe(0);

    // Second half: served from memory at once; the three tenants' counters go in ONE renew statement.
    now = NOW + SERVE * 0.75;
    const served = await Promise.all(tenants.map((t) => reserve(h, t, 100)));
    for (const s of served) expect(s).not.toBeInstanceOf(HttpProblem);
    await renewed(work);
    expect(renewStatements(rec)).toBe(1);
    expect(leaseStatements(rec)).toBe(first);
    const row = (await leaseRow(h.holder, limited.userId))!;
    expect(row.serve_until.getTime()).toBe(NOW + SERVE * 0.75 + SERVE);
    expect(row.expires_at.getTime()).toBe(NOW + SERVE * 0.75 + SERVE + h.policy.graceMs);

    // Past the first window, inside the renewed one: still no lease statement, limited or not.
    now = NOW + SERVE * 1.25;
    for (const t of tenants) expect(await reserve(h, t, 100)).not.toBeInstanceOf(HttpProblem);
    expect(leaseStatements(rec)).toBe(first);
    // The renewal moved no allowance: what the lease holds is what the statements granted and the calls left.
    expect((await leaseRow(h.holder, limited.userId))!.held).toBe(h.snapshot().find((s) => s.key.startsWith(`user:${limited.userId}:daily`))!.held.tokens);
    await renewed(work);
    await h.returnAll();
  });

  it('a renewal takes every counter used within the window along, so the windows of all active tenants end together and the next renewal is again one statement', async () => {
    const [a, b] = await Promise.all([createTenant(database, { role: 'member' }), createTenant(database, { role: 'member' })]);
    for (const t of [a!, b!]) await setLimits(database, t.orgId, t.userId, { daily_token_limit: 100_000 });
    const rec = recordingDatabase(database);
    let now = NOW;
    const work: Promise<unknown>[] = [];
    // Slices of 20 windows of demand: none is oversized here (that rule has its own test below).
    const h = holder(rec.database, () => now, work, { windows: 20 });
    const A = { orgId: a!.orgId, userId: a!.userId };
    const B = { orgId: b!.orgId, userId: b!.userId };
    await reserve(h, A, 100);
    now = NOW + SERVE * 0.4;
    await reserve(h, B, 100);
    const first = leaseStatements(rec);
    // A is due for renewal, B (its window started later) is not yet: both go.
    now = NOW + SERVE * 0.6;
    await reserve(h, A, 100);
    await renewed(work);
    expect(renewStatements(rec)).toBe(1);
    for (const t of [a!, b!]) expect((await leaseRow(h.holder, t.userId))!.serve_until.getTime()).toBe(NOW + SERVE * 1.6);
    // Half a window later both are due again: one statement for both.
    now = NOW + SERVE * 1.2;
    await Promise.all([reserve(h, A, 100), reserve(h, B, 100)]);
    await renewed(work);
    expect(renewStatements(rec)).toBe(2);
    expect(leaseStatements(rec)).toBe(first);
    await h.returnAll();
  });

  it("an admin's new limit ends the window at the next renewal instead of extending it: the full lease statement binds it before the window would have ended", async () => {
    const admin = await createTenant(database, { role: 'admin' });
    const tenant = { orgId: admin.orgId, userId: admin.userId };
    const setDailyLimit = (limit: number) =>
      withTenant(database, tenant, (tx) => putQuota(tx, { ...tenant, role: 'admin' }, { subject: { type: 'user', id: admin.userId }, limits: { daily_token_limit: limit } }));
    // putQuota writes the wall clock's periods: the holder uses the same ones.
    const today = periodsAt(new Date());
    await setDailyLimit(10_000);
    let now = NOW;
    const work: Promise<unknown>[] = [];
    const h = holder(database, () => now, work, { share: 1 });
    expect(await reserve(h, tenant, 100, today)).not.toBeInstanceOf(HttpProblem);

    await setDailyLimit(150);
    now = NOW + SERVE * 0.6;
    // Served from what was granted under the old limit (bounded by it), and the renewal reads the new one …
    expect(await reserve(h, tenant, 100, today)).not.toBeInstanceOf(HttpProblem);
    await renewed(work);
    // … so the next call, still inside the old window, takes the full statement: 200 in flight, limit 150.
    now = NOW + SERVE * 0.7;
    const refused = await reserve(h, tenant, 100, today);
    expect(refused).toBeInstanceOf(HttpProblem);
    expect((refused as HttpProblem).extra.limit).toMatchObject({ limit: 150 });
    await h.returnAll();
  });

  it("renew_leases waits for no lock (a lease row locked elsewhere is skipped, not renewed), renews only the holder's own leases, at most a day ahead", async () => {
    const t = await createTenant(database, { role: 'member' });
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: 10_000 });
    const work: Promise<unknown>[] = [];
    const h = holder(database, () => NOW, work);
    expect(await reserve(h, { orgId: t.orgId, userId: t.userId }, 100)).not.toBeInstanceOf(HttpProblem);
    const { rows } = await database.pool!.query(`SELECT id, counter_id FROM providers.quota_leases WHERE holder = $1`, [h.holder]);
    const lease = rows[0] as { id: string; counter_id: string };

    const locker = await database.pool!.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM providers.quota_leases WHERE id = $1 FOR UPDATE', [lease.id]);
      const [skipped] = await renewLeases(database, h.holder, [lease.counter_id], new Date(NOW + 5_000), new Date(NOW + 60_000));
      expect(skipped).toMatchObject({ counter_id: lease.counter_id, token_limit: '10000', lease_id: null });
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    const [again] = await renewLeases(database, h.holder, [lease.counter_id], new Date(NOW + 5_000), new Date(NOW + 60_000));
    expect(again).toMatchObject({ lease_id: lease.id });
    const { rows: after } = await database.pool!.query(`SELECT serve_until, expires_at FROM providers.quota_leases WHERE id = $1`, [lease.id]);
    expect((after[0].serve_until as Date).getTime()).toBe(NOW + 5_000);
    // expires_at never moves back (the acquire set NOW + serve + grace, later than NOW + 60 s).
    expect((after[0].expires_at as Date).getTime()).toBe(NOW + SERVE + h.policy.graceMs);

    // Another holder's lease is not renewed (its limits are still read); nor is one extended past a day.
    const [foreign] = await renewLeases(database, 'someone-else', [lease.counter_id], new Date(NOW), new Date(NOW));
    expect(foreign).toMatchObject({ counter_id: lease.counter_id, token_limit: '10000', lease_id: null });
    const far = new Date(Date.now() + 30 * 86_400_000);
    expect((await renewLeases(database, h.holder, [lease.counter_id], far, far))[0]).toMatchObject({ lease_id: lease.id });
    const { rows: capped } = await database.pool!.query(`SELECT expires_at, serve_until FROM providers.quota_leases WHERE id = $1`, [lease.id]);
    expect((capped[0].expires_at as Date).getTime()).toBeLessThanOrEqual(Date.now() + 86_400_000 + 60_000);
    expect((capped[0].serve_until as Date).getTime()).toBeLessThanOrEqual((capped[0].expires_at as Date).getTime());
  });

  it('a slice won in a burst is not renewed while its holder serves small calls: the full statement shrinks it at the window\'s end, so another instance is served (review 5)', async () => {
    const t = await createTenant(database, { role: 'member' });
    const tenant = { orgId: t.orgId, userId: t.userId };
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: 1_000 });
    let now = NOW;
    const work: Promise<unknown>[] = [];
    const a = holder(database, () => now, work);
    const b = holder(database, () => now, work);
    const serveB = async (tokens: number) => {
      const ticket = await b.reserve(tenant, periods, { requestId: randomUUID(), tokens, costMicros: 0, ttlSeconds: 60 });
      await settleLeased(database, tenant, leasedSettlement(ticket, tokens), ticket, tokens, new Date(now), {});
      await renewed(work);
    };
    // A burst on B: a slice of ⌊1,000 × 0.25⌋ = 250, 100 of it used; then one 1-token call every 600 ms for 6 s.
    await serveB(100);
    for (let i = 1; i <= 10; i++) {
      now = NOW + i * 600;
      await serveB(1);
    }
    const bHeld = b.snapshot().find((x) => x.key.startsWith(`user:${t.userId}:daily`))!.held.tokens;
    expect(bHeld).toBeLessThan(100);
    // 1,000 − 110 used − what B keeps for its few tokens a second: A's 800 fits, and is served.
    expect(await reserve(a, tenant, 800)).not.toBeInstanceOf(HttpProblem);
    await a.returnAll();
    await b.returnAll();
  });

  it('a lease row the renewal skips (locked) is tried again a little later, not by every call of the window (review 5)', async () => {
    const t = await createTenant(database, { role: 'member' });
    const tenant = { orgId: t.orgId, userId: t.userId };
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: 1_000_000 });
    const rec = recordingDatabase(database);
    let now = NOW;
    const work: Promise<unknown>[] = [];
    const h = holder(rec.database, () => now, work);
    expect(await reserve(h, tenant, 1_000)).not.toBeInstanceOf(HttpProblem);
    const { rows } = await database.pool!.query(`SELECT id FROM providers.quota_leases WHERE holder = $1`, [h.holder]);
    const locker = await database.pool!.connect();
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM providers.quota_leases WHERE id = ANY($1::uuid[]) FOR UPDATE', [rows.map((r: { id: string }) => r.id)]);
    try {
      // 15 calls over the last second of the window, 50 ms apart; retries come at most every renewAheadMs / 4.
      for (let i = 0; i < 15; i++) {
        now = NOW + SERVE / 2 + i * 50;
        expect(await reserve(h, tenant, 1)).not.toBeInstanceOf(HttpProblem);
        await renewed(work);
      }
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    const renews = renewStatements(rec);
    expect(renews).toBeGreaterThanOrEqual(2);
    expect(renews).toBeLessThanOrEqual(Math.ceil((15 * 50) / (h.policy.renewAheadMs / 4)));
    // Unlocked, the next call past the retry time renews it.
    now = NOW + SERVE / 2 + 800;
    await reserve(h, tenant, 1);
    await renewed(work);
    expect((await leaseRow(h.holder, t.userId))!.serve_until.getTime()).toBe(now + SERVE);
    await h.returnAll();
  });

  it('a lease past expires_at is renewed or reclaimed, never both: the expiry job waits for a renewal holding the row and re-checks it, and a reclaimed lease is not renewed', async () => {
    const t = await createTenant(database, { role: 'member' });
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: 10_000 });
    const work: Promise<unknown>[] = [];
    const h = holder(database, () => NOW, work);
    expect(await reserve(h, { orgId: t.orgId, userId: t.userId }, 100)).not.toBeInstanceOf(HttpProblem);
    const { rows } = await database.pool!.query(`SELECT id, counter_id, expires_at, tokens_held::int AS held FROM providers.quota_leases WHERE holder = $1 ORDER BY counter_id`, [h.holder]);
    const leases = rows as { id: string; counter_id: string; expires_at: Date; held: number }[];
    const lease = leases[0]!;
    const counterIds = leases.map((l) => l.counter_id);
    const pastExpiry = new Date(lease.expires_at.getTime() + 1_000);
    const leased = async () => Number((await database.pool!.query(`SELECT tokens_leased FROM providers.quota_counters WHERE id = $1`, [lease.counter_id])).rows[0].tokens_leased);
    const before = await leased();

    // The renewal holds the row (uncommitted) when the job comes: the job waits, then finds it renewed.
    const renewer = await database.pool!.connect();
    let reclaim: Promise<{ reclaimed: number }> | undefined;
    try {
      await renewer.query('BEGIN');
      const renew = await renewer.query(`SELECT lease_id FROM providers.renew_leases($1, $2::uuid[], $3, $4)`,
        [h.holder, counterIds, new Date(pastExpiry.getTime() + SERVE), new Date(pastExpiry.getTime() + 60_000)]);
      expect(renew.rows.map((r: { lease_id: string }) => r.lease_id).sort()).toEqual(leases.map((l) => l.id).sort());
      reclaim = reclaimExpiredLeases(database, pastExpiry);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await renewer.query('COMMIT');
    } finally {
      renewer.release();
    }
    expect((await reclaim!).reclaimed).toBe(0);
    expect(await leased()).toBe(before);

    // Reclaimed first: the renewal finds no lease of this holder and says so.
    // (Other tests' expired leases in this database go too.)
    expect((await reclaimExpiredLeases(database, new Date(pastExpiry.getTime() + 120_000))).reclaimed).toBeGreaterThanOrEqual(leases.length);
    expect((await database.pool!.query(`SELECT 1 FROM providers.quota_leases WHERE holder = $1`, [h.holder])).rowCount).toBe(0);
    const [after] = await renewLeases(database, h.holder, [lease.counter_id], new Date(NOW + SERVE), new Date(NOW + 60_000));
    expect(after).toMatchObject({ counter_id: lease.counter_id, lease_id: null });
    // Everything the lease held went back to the counter, once.
    expect(await leased()).toBe(before - lease.held);
  });
});

describe('applyRenewal: what an answer does to a counter in memory', () => {
  const P = DEFAULT_LEASE_POLICY;
  const state = (over: Partial<CounterLease> = {}) => Object.assign(new CounterLease('c1', 'k', P), { serveUntil: 1_000, ...over });
  const row = (over: Partial<RenewRow> = {}): RenewRow => ({ counter_id: 'c1', token_limit: null, cost_limit_micros: null, lease_id: null, room_t: null, room_c: null, ...over });
  const apply = (s: CounterLease, r: RenewRow | undefined, generation?: number) => applyRenewal(s, r, 3_000, 500, P, generation);
  /** A limited counter with a steady demand of 1 token/ms: the full statement would keep 2 windows of it (4,000) while room allows. */
  const busy = (held: number, inflight = 0) => {
    const s = state({ leaseId: 'l1', tokenLimit: 1_000_000, held: { tokens: held, cost: 0 }, inflight: { tokens: inflight, cost: 0 } });
    for (let t = -20_000; t <= 500; t += 10) s.demand.tokens.add(10, t);
    return s;
  };

  it('extends an unlimited counter, and a limited one whose lease was renewed', () => {
    const free = state();
    expect(apply(free, row())).toBe('extended');
    expect(free.serveUntil).toBe(3_000);
    const leased = busy(3_000, 500);
    expect(apply(leased, row({ token_limit: '1000000', lease_id: 'l1', room_t: '900000' }))).toBe('extended');
    expect(leased.serveUntil).toBe(3_000);
  });

  it('ends the window when a limit changed, appeared or went away', () => {
    for (const [mem, db] of [[500, '400'], [null, '400'], [500, null]] as const) {
      const s = state({ leaseId: mem === null ? null : 'l1', tokenLimit: mem });
      expect(apply(s, row({ token_limit: db, lease_id: mem === null ? null : 'l1' }))).toBe('limit-changed');
      expect(s.serveUntil).toBe(0);
    }
    const cost = state({ costLimit: 10 });
    apply(cost, row({ cost_limit_micros: '20' }));
    expect(cost.serveUntil).toBe(0);
  });

  it('leaves the window alone when the lease was not renewed, was replaced, a lease statement is in flight or was applied since the renewal was sent', () => {
    const skipped = busy(100);
    expect(apply(skipped, row({ token_limit: '1000000', lease_id: null, room_t: '900000' }))).toBe('not-renewed');
    expect(skipped.serveUntil).toBe(1_000);
    const replaced = busy(100);
    replaced.leaseId = 'l2';
    expect(apply(replaced, row({ token_limit: '1000000', lease_id: 'l1', room_t: '900000' }))).toBe('not-renewed');
    expect(replaced.serveUntil).toBe(1_000);
    const pending = state({ pending: Promise.resolve() });
    expect(apply(pending, row({ token_limit: '1' }))).toBe('stale');
    expect(pending.serveUntil).toBe(1_000);
    const older = state();
    const sentAt = older.generation;
    older.generation++;
    expect(apply(older, row(), sentAt)).toBe('stale');
    expect(older.serveUntil).toBe(1_000);
    const gone = state();
    expect(apply(gone, undefined)).toBe('stale');
    expect(gone.serveUntil).toBe(1_000);
    // Never shortens a window a newer statement set.
    const newer = state({ serveUntil: 5_000 });
    apply(newer, row());
    expect(newer.serveUntil).toBe(5_000);
  });

  it('does not extend a lease holding well beyond what the full statement would keep: beyond its demand, or beyond a share of a shrinking room', () => {
    // Demand ≈ 1 token/ms, so the full statement keeps ≈ 4,000 unused: 1.5× that still renews, more does not.
    const target = sliceTarget(0, busy(0).demand.tokens.perMs(500), P, true);
    expect(target).toBeGreaterThan(3_000);
    expect(target).toBeLessThan(5_000);
    const within = busy(Math.floor(target * 1.4) + 200, 200);
    expect(apply(within, row({ token_limit: '1000000', lease_id: 'l1', room_t: '900000' }))).toBe('extended');
    const burst = busy(target * 3 + 200, 200);
    expect(apply(burst, row({ token_limit: '1000000', lease_id: 'l1', room_t: '900000' }))).toBe('oversized');
    expect(burst.serveUntil).toBe(1_000);
    // Near the limit: room 2,000 (this holder's 1,000 unused included) → the statement keeps ⌊2,000 × 0.25⌋ = 500.
    const near = busy(1_000);
    expect(apply(near, row({ token_limit: '1000000', lease_id: 'l1', room_t: '2000' }))).toBe('oversized');
    const small = busy(700);
    expect(apply(small, row({ token_limit: '1000000', lease_id: 'l1', room_t: '2800' }))).toBe('extended');
  });
});
