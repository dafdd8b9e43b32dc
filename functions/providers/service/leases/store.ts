import type { Database } from '../../../shared/db/index.js';
import { systemSql, tenantSql, type Q, type SqlTenant } from '../../../shared/db/round-trip.js';
import type { Amount } from './allocator.js';

/**
 * Quota leases, the PostgreSQL half. Every statement below is ONE round trip (tenantSql batches BEGIN,
 * tenant setup, the statement and COMMIT), and every one locks in the same order: the limited counter
 * rows in id order, then their lease rows (FOR UPDATE, which also re-reads each at its latest version:
 * a plain read would see the statement's snapshot, taken before it waited for the counter lock). Every
 * change to a lease's holding moves the counter's tokens_leased/cost_leased_micros by the same delta,
 * so `leased = Σ held` always holds, and a grant is judged on used + reserved + leased under the lock:
 *
 *   room = limit − used − reserved − (leased − this holder's held) − this holder's calls in flight
 *
 * Counters without a limit are read without a lock and never leased: a gateway whose org has no limit
 * does not touch the org's row until settle.
 */

/** The four counters a call charges, in this fixed order in every array parameter and answer. */
export const COUNTER_ORDER = [
  { subject: 'user', period: 'daily' },
  { subject: 'user', period: 'monthly' },
  { subject: 'org', period: 'daily' },
  { subject: 'org', period: 'monthly' },
] as const;

export interface LeaseAsk {
  need: Amount;
  target: Amount;
  inflight: Amount;
}

export interface LeaseRow {
  idx: number;
  counter_id: string;
  token_limit: string | null;
  cost_limit_micros: string | null;
  tokens_used: string;
  tokens_reserved: string;
  tokens_leased: string;
  cost_used_micros: string;
  cost_reserved_micros: string;
  cost_leased_micros: string;
  lease_id: string | null;
  held_t: string | null;
  held_c: string | null;
  delta_t: string | null;
  delta_c: string | null;
}

const ACQUIRE = `
WITH k AS (
  SELECT * FROM unnest(
    ARRAY[1, 2, 3, 4], ARRAY['user', 'user', 'org', 'org']::text[], ARRAY[$2::uuid, $2::uuid, $1::uuid, $1::uuid],
    ARRAY['daily', 'monthly', 'daily', 'monthly']::text[], ARRAY[$3::date, $4::date, $3::date, $4::date],
    $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[]
  ) AS k(idx, subject_type, subject_id, period, period_start, need_t, need_c, target_t, target_c, inflight_t, inflight_c)
), seen AS (
  SELECT qc.id, qc.token_limit, qc.cost_limit_micros, k.*
  FROM providers.quota_counters qc JOIN k USING (subject_type, subject_id, period, period_start)
  WHERE qc.org_id = $1::uuid
), locked AS (
  SELECT qc.id, qc.token_limit, qc.cost_limit_micros, qc.tokens_used, qc.tokens_reserved, qc.tokens_leased,
         qc.cost_used_micros, qc.cost_reserved_micros, qc.cost_leased_micros
  FROM providers.quota_counters qc
  WHERE qc.id IN (SELECT id FROM seen WHERE token_limit IS NOT NULL OR cost_limit_micros IS NOT NULL)
  ORDER BY qc.id
  FOR UPDATE
), mine AS (
  SELECT ql.id, ql.counter_id, ql.tokens_held, ql.cost_held_micros FROM providers.quota_leases ql
  WHERE ql.holder = $5::text AND ql.counter_id IN (SELECT id FROM locked)
  FOR UPDATE
), room AS (
  SELECT l.*, s.need_t, s.need_c, s.target_t, s.target_c, s.inflight_t, s.inflight_c,
         coalesce(m.tokens_held, 0) AS old_t, coalesce(m.cost_held_micros, 0) AS old_c,
         l.token_limit - l.tokens_used - l.tokens_reserved - (l.tokens_leased - coalesce(m.tokens_held, 0)) - s.inflight_t AS room_t,
         l.cost_limit_micros - l.cost_used_micros - l.cost_reserved_micros - (l.cost_leased_micros - coalesce(m.cost_held_micros, 0)) - s.inflight_c AS room_c
  FROM locked l JOIN seen s ON s.id = l.id LEFT JOIN mine m ON m.counter_id = l.id
), sized AS (
  -- allocator.ts unusedAfter(), per limited dimension; an unlimited dimension holds nothing. A lease
  -- never grows past what the limit leaves (room + inflight = limit − used − reserved − other leases),
  -- nor past what it already holds: inflight is the holder's memory when it asked, and a call in it
  -- whose settle committed before this statement took the counter lock is already in used (its share
  -- left the lease), so holding inflight again would grant that call's worst case a second time. A
  -- lowered limit still never takes from a lease what it holds for calls in flight.
  SELECT r.*,
    CASE WHEN r.token_limit IS NULL THEN 0 ELSE least(greatest(r.room_t + r.inflight_t, r.old_t), r.inflight_t + CASE
      WHEN r.room_t >= r.need_t THEN least(greatest(r.target_t, r.need_t), greatest(r.need_t, floor(r.room_t * $12::float8)::bigint), r.room_t)
      ELSE greatest(least(r.room_t, r.old_t - r.inflight_t), 0) END) END AS new_t,
    CASE WHEN r.cost_limit_micros IS NULL THEN 0 ELSE least(greatest(r.room_c + r.inflight_c, r.old_c), r.inflight_c + CASE
      WHEN r.room_c >= r.need_c THEN least(greatest(r.target_c, r.need_c), greatest(r.need_c, floor(r.room_c * $12::float8)::bigint), r.room_c)
      ELSE greatest(least(r.room_c, r.old_c - r.inflight_c), 0) END) END AS new_c
  FROM room r
), lease AS (
  INSERT INTO providers.quota_leases AS ql (org_id, counter_id, holder, tokens_held, cost_held_micros, serve_until, expires_at)
  SELECT $1::uuid, s.id, $5::text, s.new_t, s.new_c, $13::timestamptz, $14::timestamptz FROM sized s
  ON CONFLICT (counter_id, holder) DO UPDATE
  SET tokens_held = EXCLUDED.tokens_held, cost_held_micros = EXCLUDED.cost_held_micros, serve_until = EXCLUDED.serve_until, expires_at = EXCLUDED.expires_at
  RETURNING ql.id, ql.counter_id
), moved AS (
  UPDATE providers.quota_counters qc
  SET tokens_leased = qc.tokens_leased + (s.new_t - s.old_t), cost_leased_micros = qc.cost_leased_micros + (s.new_c - s.old_c)
  FROM sized s WHERE qc.id = s.id
  RETURNING qc.id
)
SELECT s.idx, s.id AS counter_id, coalesce(z.token_limit, CASE WHEN z.id IS NULL THEN s.token_limit END) AS token_limit,
       coalesce(z.cost_limit_micros, CASE WHEN z.id IS NULL THEN s.cost_limit_micros END) AS cost_limit_micros,
       coalesce(z.tokens_used, 0) AS tokens_used, coalesce(z.tokens_reserved, 0) AS tokens_reserved, coalesce(z.tokens_leased + z.new_t - z.old_t, 0) AS tokens_leased,
       coalesce(z.cost_used_micros, 0) AS cost_used_micros, coalesce(z.cost_reserved_micros, 0) AS cost_reserved_micros,
       coalesce(z.cost_leased_micros + z.new_c - z.old_c, 0) AS cost_leased_micros,
       le.id AS lease_id, z.new_t AS held_t, z.new_c AS held_c, z.new_t - z.old_t AS delta_t, z.new_c - z.old_c AS delta_c,
       (SELECT count(*) FROM moved) AS moved
FROM seen s LEFT JOIN sized z ON z.id = s.id LEFT JOIN lease le ON le.counter_id = s.id
ORDER BY s.idx`;

export interface AcquireInput {
  holder: string;
  periods: { day: string; month: string };
  /** One per COUNTER_ORDER entry. */
  asks: LeaseAsk[];
  share: number;
  serveUntil: Date;
  expiresAt: Date;
}

/** Grants, renews or shrinks this holder's leases on the four counters of a call. Fewer than 4 rows: counters missing. */
export async function acquireLeases(database: Database, tenant: SqlTenant, input: AcquireInput): Promise<LeaseRow[]> {
  const col = (f: (a: LeaseAsk) => number) => input.asks.map((a) => Math.max(0, Math.round(f(a))));
  return tenantSql(database, tenant, (q) => q.query<LeaseRow>(ACQUIRE, [
    tenant.orgId, tenant.userId, input.periods.day, input.periods.month, input.holder,
    col((a) => a.need.tokens), col((a) => a.need.cost), col((a) => a.target.tokens), col((a) => a.target.cost),
    col((a) => a.inflight.tokens), col((a) => a.inflight.cost), input.share, input.serveUntil, input.expiresAt,
  ], { last: true, prepare: 'llc_lease_acquire_v2' }));
}

/**
 * Gives back what the holder's leases hold beyond `keep` (its calls still in flight); a lease left
 * holding nothing is deleted. `leases`: lease id → amount to keep.
 */
const GIVE_BACK = `
WITH k AS (
  SELECT * FROM unnest($1::text[]::uuid[], $2::bigint[], $3::bigint[]) AS k(lease_id, keep_t, keep_c)
), counters AS (
  SELECT qc.id FROM providers.quota_counters qc
  WHERE qc.id IN (SELECT counter_id FROM providers.quota_leases WHERE id IN (SELECT lease_id FROM k))
  ORDER BY qc.id FOR UPDATE
), cur AS (
  SELECT ql.id, ql.counter_id, ql.tokens_held, ql.cost_held_micros FROM providers.quota_leases ql
  WHERE ql.id IN (SELECT lease_id FROM k) AND ql.counter_id IN (SELECT id FROM counters)
  FOR UPDATE
), g AS (
  SELECT c.id, c.counter_id, least(c.tokens_held, k.keep_t) AS new_t, least(c.cost_held_micros, k.keep_c) AS new_c,
         c.tokens_held - least(c.tokens_held, k.keep_t) AS back_t, c.cost_held_micros - least(c.cost_held_micros, k.keep_c) AS back_c
  FROM cur c JOIN k ON k.lease_id = c.id
), del AS (
  DELETE FROM providers.quota_leases ql USING g WHERE ql.id = g.id AND g.new_t = 0 AND g.new_c = 0 RETURNING ql.id
), upd AS (
  UPDATE providers.quota_leases ql SET tokens_held = g.new_t, cost_held_micros = g.new_c
  FROM g WHERE ql.id = g.id AND (g.new_t > 0 OR g.new_c > 0) RETURNING ql.id
), c AS (
  UPDATE providers.quota_counters qc
  SET tokens_leased = greatest(qc.tokens_leased - s.t, 0), cost_leased_micros = greatest(qc.cost_leased_micros - s.c, 0)
  FROM (SELECT counter_id, sum(back_t) AS t, sum(back_c) AS c FROM g GROUP BY counter_id) s
  WHERE qc.id = s.counter_id
  RETURNING qc.id
)
SELECT g.id AS lease_id, g.back_t, g.back_c, (SELECT count(*) FROM del) + (SELECT count(*) FROM upd) + (SELECT count(*) FROM c) AS touched FROM g`;

export async function giveBack(
  database: Database,
  tenant: SqlTenant,
  leases: { leaseId: string; keep: Amount }[],
): Promise<{ lease_id: string; back_t: string; back_c: string }[]> {
  if (!leases.length) return [];
  return tenantSql(database, tenant, (q) => q.query(GIVE_BACK, [
    leases.map((l) => l.leaseId), leases.map((l) => l.keep.tokens), leases.map((l) => l.keep.cost),
  ], { last: true }));
}

/**
 * The expiry job: leases past expires_at (a killed or stalled holder) give back all they held. The
 * WHERE is repeated on the locking read, so a lease renewed meanwhile (its latest version not expired)
 * is skipped. `at` is the job's clock (tests move it; production passes nothing: the database's now()).
 */
const RECLAIM = `
WITH expired AS (
  SELECT DISTINCT counter_id FROM providers.quota_leases WHERE expires_at < coalesce($1::timestamptz, now()) LIMIT 1000
), counters AS (
  SELECT qc.id FROM providers.quota_counters qc WHERE qc.id IN (SELECT counter_id FROM expired) ORDER BY qc.id FOR UPDATE
), gone AS (
  SELECT ql.id, ql.counter_id, ql.tokens_held, ql.cost_held_micros FROM providers.quota_leases ql
  WHERE ql.counter_id IN (SELECT id FROM counters) AND ql.expires_at < coalesce($1::timestamptz, now())
  FOR UPDATE
), del AS (
  DELETE FROM providers.quota_leases ql USING gone WHERE ql.id = gone.id RETURNING ql.id
), c AS (
  UPDATE providers.quota_counters qc
  SET tokens_leased = greatest(qc.tokens_leased - s.t, 0), cost_leased_micros = greatest(qc.cost_leased_micros - s.c, 0)
  FROM (SELECT counter_id, sum(tokens_held) AS t, sum(cost_held_micros) AS c FROM gone GROUP BY counter_id) s
  WHERE qc.id = s.counter_id
  RETURNING qc.id
)
SELECT (SELECT count(*) FROM del) AS reclaimed, (SELECT count(*) FROM c) AS counters, (SELECT count(*) FROM expired) AS batch`;

export async function reclaimExpiredLeases(database: Database, at?: Date): Promise<{ reclaimed: number }> {
  let reclaimed = 0;
  for (;;) {
    const [row] = await systemSql(database, (q: Q) => q.query<{ reclaimed: string; batch: string }>(RECLAIM, [at ?? null]));
    reclaimed += Number(row?.reclaimed ?? 0);
    if (Number(row?.batch ?? 0) < 1000) return { reclaimed };
  }
}
