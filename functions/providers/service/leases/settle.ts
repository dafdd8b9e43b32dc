import type { Database } from '../../../shared/db/index.js';
import { usageAndRequestLogCtes } from '../settle-sql.js';
import { appRoleSql, tenantSql, type SqlTenant } from '../../../shared/db/round-trip.js';
import type { Amount } from './allocator.js';

/**
 * Settling a call that was served from leases (the reservation lived in memory; its quota_reservations
 * row, if the journal wrote it yet, is 'leased' and holds nothing). ONE statement, ONE round trip,
 * exactly once by request id:
 *   - the quota_reservations row becomes 'settled': inserted so when the journal has not written it yet
 *     (the journal's insert then does nothing), else updated from 'leased', or from 'released' when the
 *     expiry job reported the call lost before this late settle came (a late settle still bills, as
 *     settle_batch does for a released reservation). A settled row stays as it is: a repeated settle
 *     changes nothing;
 *   - every counter gets used += the real usage;
 *   - each lease the call came from gives up what the call consumed, least(usage, worst case, held),
 *     and its counter's leased drops by the same amount (leased = Σ held stays true). The rest of the
 *     call's worst case stays in the lease for the next calls. A lease the expiry job already reclaimed
 *     gives up nothing: its holding went back to the counter then.
 *   - usage_tracking and the request_logs outbox row exactly as quota.ts SETTLE.
 * Locks: the counters in id order, then the lease rows (the order every lease statement uses).
 * The answer lists what each lease gave up, so the holder's memory moves by the same deltas.
 */
const SETTLE_LEASED = `
WITH ins AS (
  INSERT INTO providers.quota_reservations AS q (request_id, org_id, user_id, state, tokens_reserved, cost_reserved_micros, tokens_used, cost_used_micros, counter_ids, expires_at, settled_at)
  VALUES ($1::text, $12::uuid, $13::uuid, 'settled', $18::bigint, $19::bigint, $2::bigint, $3::bigint, $14::text[]::uuid[], now(), now())
  ON CONFLICT (request_id) DO UPDATE
  SET state = 'settled', tokens_used = EXCLUDED.tokens_used, cost_used_micros = EXCLUDED.cost_used_micros, settled_at = now()
  WHERE q.state IN ('leased', 'released') AND q.org_id = EXCLUDED.org_id AND q.user_id = EXCLUDED.user_id
  RETURNING q.org_id, q.user_id
), k AS (
  SELECT * FROM unnest($14::text[]::uuid[], $15::text[]::uuid[], $16::bigint[], $17::bigint[]) AS k(counter_id, lease_id, take_t, take_c)
  WHERE EXISTS (SELECT 1 FROM ins)
), lk AS (
  SELECT qc.id FROM providers.quota_counters qc WHERE qc.id IN (SELECT counter_id FROM k) ORDER BY qc.id FOR UPDATE
), ls AS (
  SELECT ql.id, ql.counter_id, least(ql.tokens_held, k.take_t) AS t, least(ql.cost_held_micros, k.take_c) AS c
  FROM providers.quota_leases ql JOIN k ON k.lease_id = ql.id AND k.counter_id = ql.counter_id
  WHERE ql.counter_id IN (SELECT id FROM lk)
  FOR UPDATE OF ql
), ul AS (
  UPDATE providers.quota_leases ql SET tokens_held = ql.tokens_held - ls.t, cost_held_micros = ql.cost_held_micros - ls.c
  FROM ls WHERE ql.id = ls.id
  RETURNING ql.id
), c AS (
  UPDATE providers.quota_counters qc
  SET tokens_used = qc.tokens_used + $2::bigint, cost_used_micros = qc.cost_used_micros + $3::bigint,
      tokens_leased = qc.tokens_leased - coalesce(s.t, 0), cost_leased_micros = qc.cost_leased_micros - coalesce(s.c, 0)
  FROM lk LEFT JOIN (SELECT counter_id, sum(t) AS t, sum(c) AS c FROM ls GROUP BY counter_id) s ON s.counter_id = lk.id
  WHERE qc.id = lk.id
  RETURNING qc.id
), ${usageAndRequestLogCtes('ins')}
SELECT (SELECT count(*) FROM ins) AS settled, (SELECT count(*) FROM c) AS counters, (SELECT count(*) FROM ul) AS leases,
  (SELECT coalesce(json_agg(json_build_object('lease', ls.id, 't', ls.t, 'c', ls.c)), '[]'::json) FROM ls) AS consumed,
  EXISTS (SELECT 1 FROM providers.cost_alerts a WHERE a.org_id = $12::uuid AND a.enabled AND (a.user_id IS NULL OR a.user_id = $13::uuid)) AS alerts`;

export interface LeasedSettleInput {
  requestId: string;
  tokens: number;
  costMicros: number;
  provider: string;
  model: string;
  day: string;
  promptTokens: number;
  completionTokens: number;
  eventId: string;
  occurredAt: string;
  /** The request-log event (quota.ts requestLogPayload). */
  payload: object;
  /** The call's four counters, the lease each was served from (null: no limit), and what to take from it. */
  parts: { counterId: string; leaseId: string | null; take: Amount }[];
  worst: Amount;
}

export interface LeasedSettleResult {
  settled: boolean;
  alerts: boolean;
  /** lease id → what it gave up. */
  consumed: Map<string, Amount>;
}

type LeasedSettleRow = { settled: string; alerts: boolean; consumed: { lease: string; t: number; c: number }[] };

/** The leased settle of one call as a statement. */
export function leasedSettleStatement(tenant: SqlTenant, s: LeasedSettleInput): { text: string; params: unknown[]; prepare: string } {
  return {
    text: SETTLE_LEASED, prepare: 'llc_lease_settle_v2',
    params: [
      s.requestId, s.tokens, s.costMicros, s.provider, s.model, s.day, s.promptTokens, s.completionTokens, s.eventId, s.occurredAt, JSON.stringify(s.payload),
      tenant.orgId, tenant.userId,
      s.parts.map((p) => p.counterId), s.parts.map((p) => p.leaseId), s.parts.map((p) => p.take.tokens), s.parts.map((p) => p.take.cost),
      s.worst.tokens, s.worst.cost,
    ],
  };
}

export function leasedSettleResult(row: LeasedSettleRow | undefined): LeasedSettleResult {
  const consumed = new Map<string, Amount>();
  for (const c of row?.consumed ?? []) consumed.set(c.lease, { tokens: Number(c.t), cost: Number(c.c) });
  return { settled: Number(row?.settled ?? 0) === 1, alerts: row?.alerts === true, consumed };
}

export async function settleLeasedStatement(database: Database, tenant: SqlTenant, s: LeasedSettleInput): Promise<LeasedSettleResult> {
  const st = leasedSettleStatement(tenant, s);
  const [row] = await tenantSql(database, tenant, (q) => q.query<LeasedSettleRow>(st.text, st.params, { last: true, prepare: st.prepare }));
  return leasedSettleResult(row);
}

const BATCH = 'select request_id, settled, alerts, consumed from providers.settle_leased_batch($1::jsonb)';
/** The same, after the window's journal entries in the same transaction (migration 0014). */
const WINDOW = 'select request_id, settled, alerts, consumed from providers.settle_leased_window($1::jsonb, $2::jsonb)';

/** One call as providers.settle_leased_batch reads it (jsonb_to_recordset). */
export function leasedBatchItem(tenant: SqlTenant, s: LeasedSettleInput) {
  return {
    request_id: s.requestId, org_id: tenant.orgId, user_id: tenant.userId, provider: s.provider, model: s.model, day: s.day,
    prompt_tokens: s.promptTokens, completion_tokens: s.completionTokens, cost_micros: s.costMicros, event_id: s.eventId,
    occurred_at: s.occurredAt, payload: s.payload, worst_tokens: s.worst.tokens, worst_cost: s.worst.cost,
    parts: s.parts.map((p) => ({ counter_id: p.counterId, lease_id: p.leaseId, take_t: p.take.tokens, take_c: p.take.cost })),
  };
}

/**
 * The leased settles of calls of ANY tenants in one statement, one transaction (providers.settle_leased_batch,
 * migration 0013: the statement above, per call, with one update per counter and per lease for the whole
 * batch). Runs as the application role with no org set: the function takes org and user per call, as
 * settle_batch does for reservation rows. Answers by request id.
 */
export async function settleLeasedBatch(
  database: Database,
  calls: { tenant: SqlTenant; input: LeasedSettleInput }[],
  /** Journal entries (providers.journal_leased's items) to commit in the same transaction, first. */
  journal: object[] = [],
): Promise<Map<string, LeasedSettleResult>> {
  const items = JSON.stringify(calls.map(({ tenant, input }) => leasedBatchItem(tenant, input)));
  const [text, params, prepare] = journal.length
    ? [WINDOW, [JSON.stringify(journal), items], 'llc_lease_settle_window_v1']
    : [BATCH, [items], 'llc_lease_settle_batch_v1'];
  const rows = await appRoleSql(database, (q) => q.query<{ request_id: string; settled: boolean; alerts: boolean; consumed: { lease: string; t: number; c: number }[] }>(
    text, params, { last: true, prepare },
  ));
  return new Map(rows.map((r) => [r.request_id, leasedSettleResult({ settled: r.settled ? '1' : '0', alerts: r.alerts, consumed: r.consumed })]));
}
