import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CounterLease, DEFAULT_LEASE_POLICY } from '../../../functions/providers/service/leases/allocator.js';
import { QuotaLeases } from '../../../functions/providers/service/leases/index.js';
import { applyRenewal, renewLeases, type RenewRow } from '../../../functions/providers/service/leases/renewal.js';
import { periodsAt } from '../../../functions/providers/service/quota.js';
import { putQuota } from '../../../functions/providers/service/quotas.js';
import type { Database } from '../../../functions/shared/db/index.js';
import { recordingDatabase } from '../../support/recording-db.js';
import { withTenant } from '../../../functions/shared/db/tenant.js';
import { HttpProblem } from '../../../functions/shared/http/index.js';
import { createTestDatabase } from '../../support/db.js';
import { createTenant } from '../../support/tenants.js';
import { setLimits } from '../../support/gateway.js';

/**
 * Serve windows renewed ahead (leases/renewal.ts, providers.renew_leases in migration 0014), against
 * real PostgreSQL: calls served near the end of a window never wait for a lease statement, one statement
 * renews the counters of every tenant, a changed limit ends the window instead of extending it, and the
 * function waits for no lock and renews no expired lease.
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
    const h = holder(rec.database, () => now, work);
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
});

describe('applyRenewal: what an answer does to a counter in memory', () => {
  const state = (over: Partial<CounterLease> = {}) => Object.assign(new CounterLease('c1', 'k', DEFAULT_LEASE_POLICY), { serveUntil: 1_000, ...over });
  const row = (over: Partial<RenewRow> = {}): RenewRow => ({ counter_id: 'c1', token_limit: null, cost_limit_micros: null, lease_id: null, ...over });

  it('extends an unlimited counter, and a limited one whose lease was renewed', () => {
    const free = state();
    applyRenewal(free, row(), 3_000);
    expect(free.serveUntil).toBe(3_000);
    const leased = state({ leaseId: 'l1', tokenLimit: 500 });
    applyRenewal(leased, row({ token_limit: '500', lease_id: 'l1' }), 3_000);
    expect(leased.serveUntil).toBe(3_000);
  });

  it('ends the window when a limit changed, appeared or went away', () => {
    for (const [mem, db] of [[500, '400'], [null, '400'], [500, null]] as const) {
      const s = state({ leaseId: mem === null ? null : 'l1', tokenLimit: mem });
      applyRenewal(s, row({ token_limit: db, lease_id: mem === null ? null : 'l1' }), 3_000);
      expect(s.serveUntil).toBe(0);
    }
    const cost = state({ costLimit: 10 });
    applyRenewal(cost, row({ cost_limit_micros: '20' }), 3_000);
    expect(cost.serveUntil).toBe(0);
  });

  it('leaves the window alone when the lease was not renewed, was replaced, or a lease statement is in flight', () => {
    const skipped = state({ leaseId: 'l1', tokenLimit: 500 });
    applyRenewal(skipped, row({ token_limit: '500', lease_id: null }), 3_000);
    expect(skipped.serveUntil).toBe(1_000);
    const replaced = state({ leaseId: 'l2', tokenLimit: 500 });
    applyRenewal(replaced, row({ token_limit: '500', lease_id: 'l1' }), 3_000);
    expect(replaced.serveUntil).toBe(1_000);
    const busy = state({ pending: Promise.resolve() });
    applyRenewal(busy, row({ token_limit: '1' }), 3_000);
    expect(busy.serveUntil).toBe(1_000);
    const gone = state();
    applyRenewal(gone, undefined, 3_000);
    expect(gone.serveUntil).toBe(1_000);
    // Never shortens a window a newer statement set.
    const newer = state({ serveUntil: 5_000 });
    applyRenewal(newer, row(), 3_000);
    expect(newer.serveUntil).toBe(5_000);
  });
});
