import { createHash } from 'node:crypto';
import type { Database } from '../../shared/db/index.js';
import { providerProblems } from './errors.js';
import type { LeaseTicket } from './leases/ticket.js';
import { settleLeased } from './leases/settle-ticket.js';
import { usageAndRequestLogCtes } from './settle-sql.js';
import { tenantSql, type Q, type SqlTenant } from '../../shared/db/round-trip.js';

/**
 * Exact quotas. Every call charges four counter rows (user and org × daily and monthly, UTC periods).
 * Reserve is ONE statement: it locks the four rows in id order (no deadlocks between concurrent
 * reservations), judges used + reserved + n against each limit on the latest row version under its
 * lock (parallel requests cannot both take the last room), and only if all four admit it inserts the
 * reservation row and adds the worst case to the counters (all or nothing inside the statement).
 * Settle is ONE statement too (see settle()). On the gateway each goes with BEGIN, the tenant setup
 * and COMMIT in a single round trip (shared/db/round-trip.ts), so a counter lock is never held across the network.
 */
export interface Periods {
  day: string;
  month: string;
}

export function periodsAt(now: Date): Periods {
  const day = now.toISOString().slice(0, 10);
  return { day, month: `${day.slice(0, 7)}-01` };
}

/** Integer micro-dollars, rounded up: a partial micro-dollar is still charged. */
export function costMicros(promptTokens: number, completionTokens: number, inPrice: number, outPrice: number): number {
  return Math.ceil((promptTokens * inPrice + completionTokens * outPrice) / 1_000_000);
}

/** Micro-dollars per million tokens of each class (catalog columns; a null class costs its base price). */
export interface TokenPrices {
  input: number;
  cachedInput: number;
  cacheWrite: number;
  output: number;
  reasoning: number;
}

export const flatPrices = (input: number, output: number): TokenPrices => ({ input, cachedInput: input, cacheWrite: input, output, reasoning: output });

/**
 * The cost of a call's usage priced per token class. `prompt_tokens` holds the cache reads and writes,
 * `completion_tokens` the reasoning (OpenAI's convention, see adapters/types.ts Usage); a breakdown
 * larger than its total (a provider bug) is clamped so no token is billed twice or below zero.
 */
export function usageCostMicros(
  u: { prompt_tokens: number; completion_tokens: number; cached_tokens?: number; cache_write_tokens?: number; reasoning_tokens?: number },
  p: TokenPrices,
): number {
  const cached = Math.min(u.cached_tokens ?? 0, u.prompt_tokens);
  const written = Math.min(u.cache_write_tokens ?? 0, u.prompt_tokens - cached);
  const reasoning = Math.min(u.reasoning_tokens ?? 0, u.completion_tokens);
  const total =
    (u.prompt_tokens - cached - written) * p.input + cached * p.cachedInput + written * p.cacheWrite +
    (u.completion_tokens - reasoning) * p.output + reasoning * p.reasoning;
  return Math.ceil(total / 1_000_000);
}

/** The most a call may cost: every prompt token at its dearest input class, every output token at its dearest output class. */
export function worstCaseCostMicros(promptTokens: number, outputTokens: number, p: TokenPrices): number {
  return Math.ceil((promptTokens * Math.max(p.input, p.cachedInput, p.cacheWrite) + outputTokens * Math.max(p.output, p.reasoning)) / 1_000_000);
}

export interface Reservation {
  requestId: string;
  tokens: number;
  costMicros: number;
  /** Seconds until an unsettled reservation may be released by the job. */
  ttlSeconds: number;
}

interface CounterRow {
  id: string;
  subject_type: 'user' | 'org';
  period: 'daily' | 'monthly';
  tokens_used: string;
  tokens_reserved: string;
  cost_used_micros: string;
  cost_reserved_micros: string;
  token_limit: string | null;
  cost_limit_micros: string | null;
  admitted: boolean;
  inserted: string;
}

const RESERVE = `
WITH locked AS (
  -- FOR UPDATE re-reads each row at its latest version under the lock, so admitted is judged on
  -- what concurrent reservations left, not on this statement's snapshot.
  -- Live quota leases (leases/) count as in flight: instances on leases and on rows share the limits.
  SELECT id, subject_type, period, tokens_used, tokens_reserved + tokens_leased AS tokens_reserved, cost_used_micros,
         cost_reserved_micros + cost_leased_micros AS cost_reserved_micros, token_limit, cost_limit_micros,
         (token_limit IS NULL OR tokens_used + tokens_reserved + tokens_leased + $5::bigint <= token_limit)
           AND (cost_limit_micros IS NULL OR cost_used_micros + cost_reserved_micros + cost_leased_micros + $6::bigint <= cost_limit_micros) AS admitted
  FROM providers.quota_counters
  WHERE org_id = $1::uuid
    AND ((subject_type = 'user' AND subject_id = $2::uuid) OR (subject_type = 'org' AND subject_id = $1::uuid))
    AND ((period = 'daily' AND period_start = $3::date) OR (period = 'monthly' AND period_start = $4::date))
  ORDER BY id
  FOR UPDATE
), verdict AS (
  SELECT count(*) = 4 AND bool_and(admitted) AS ok FROM locked
), ins AS (
  INSERT INTO providers.quota_reservations (request_id, org_id, user_id, tokens_reserved, cost_reserved_micros, counter_ids, expires_at)
  SELECT $7::text, $1::uuid, $2::uuid, $5::bigint, $6::bigint, ARRAY(SELECT id FROM locked ORDER BY id), now() + make_interval(secs => $8::double precision)
  WHERE (SELECT ok FROM verdict)
  ON CONFLICT (request_id) DO NOTHING
  RETURNING request_id
), upd AS (
  -- All or nothing inside the statement (every row admits it and the reservation row is new): a
  -- refusal or a repeated request id changes no row, so the statement may commit in the same round trip.
  UPDATE providers.quota_counters c
  SET tokens_reserved = c.tokens_reserved + $5::bigint, cost_reserved_micros = c.cost_reserved_micros + $6::bigint
  FROM locked l
  WHERE c.id = l.id AND EXISTS (SELECT 1 FROM ins)
  RETURNING c.id
)
SELECT l.*, (SELECT count(*) FROM ins) AS inserted
FROM locked l`;

/** Creates the period's counters with the limits in force (user row, org row = user_id null). */
const ENSURE_COUNTERS = `
INSERT INTO providers.quota_counters (org_id, subject_type, subject_id, period, period_start, token_limit, cost_limit_micros)
SELECT $1::uuid, s.subject_type, s.subject_id, s.period, s.period_start,
       CASE s.period WHEN 'daily' THEN q.daily_token_limit ELSE q.monthly_token_limit END,
       CASE s.period WHEN 'daily' THEN q.daily_cost_limit_micros ELSE q.monthly_cost_limit_micros END
FROM (VALUES ('user', $2::uuid, 'daily', $3::date), ('user', $2::uuid, 'monthly', $4::date),
             ('org', $1::uuid, 'daily', $3::date), ('org', $1::uuid, 'monthly', $4::date)) AS s(subject_type, subject_id, period, period_start)
LEFT JOIN providers.user_quotas q
  ON q.org_id = $1::uuid AND ((s.subject_type = 'user' AND q.user_id = $2::uuid) OR (s.subject_type = 'org' AND q.user_id IS NULL))
ON CONFLICT (subject_type, subject_id, period, period_start) DO NOTHING`;

export async function ensureCounters(q: Q, tenant: SqlTenant, periods: Periods): Promise<void> {
  await q.query(ENSURE_COUNTERS, [tenant.orgId, tenant.userId, periods.day, periods.month], { last: true });
}

/** The period's counter rows do not exist yet (first call of the day/month). */
export class MissingCounters extends Error {
  override name = 'MissingCounters';
}

/**
 * Reserves as the (only, last) statement of the caller's tenant transaction: it commits in the same
 * round trip, so the counter locks are never held across the network. Refusal throws 429 naming the
 * limit (the statement changed nothing). Missing counters are not created here: two first calls
 * creating rows in one transaction each and then locking each other's rows would deadlock, so
 * reserveTx creates them in their own short transaction and retries.
 */
export async function reserveIn(q: Q, tenant: SqlTenant, periods: Periods, r: Reservation): Promise<void> {
  const params = [tenant.orgId, tenant.userId, periods.day, periods.month, r.tokens, r.costMicros, r.requestId, r.ttlSeconds];
  const rows = await q.query<CounterRow>(RESERVE, params, { last: true, prepare: 'llc_quota_reserve_v3' });
  checkReserved(rows, r, periods);
}

function checkReserved(rows: CounterRow[], r: Reservation, periods: Periods): void {
  if (rows.length < 4) throw new MissingCounters('quota counters of this period are missing');
  if (rows.every((row) => row.admitted) && Number(rows[0]!.inserted) === 1) return;
  if (rows.every((row) => row.admitted)) throw new Error(`reservation ${r.requestId} already exists`);
  throw refusal(refusingRow(rows.filter((row) => !row.admitted), r), r, periods);
}

/** The counter to name: one whose usage alone leaves no room first (reserve_batch orders the same way). */
function refusingRow(refused: CounterRow[], r: Reservation): CounterRow | undefined {
  const hard = (row: CounterRow) =>
    (row.token_limit !== null && Number(row.tokens_used) + r.tokens > Number(row.token_limit)) ||
    (row.cost_limit_micros !== null && Number(row.cost_used_micros) + r.costMicros > Number(row.cost_limit_micros));
  return refused.find(hard) ?? refused[0];
}

/** Runs `fn` (which calls reserveIn) in a tenant transaction, creating the period's counters first if needed. */
export async function reserveTx<T>(database: Database, tenant: SqlTenant, periods: Periods, fn: (q: Q) => Promise<T>): Promise<T> {
  try {
    return await retryTransient(() => tenantSql(database, tenant, fn));
  } catch (err) {
    if (!(err instanceof MissingCounters)) throw err;
  }
  await retryTransient(() => tenantSql(database, tenant, (q) => ensureCounters(q, tenant, periods)));
  return retryTransient(() => tenantSql(database, tenant, fn));
}

/** The gateway's reserve: ONE round trip (BEGIN, tenant setup, the statement, COMMIT), see shared/db/round-trip.ts. */
export async function reserve(database: Database, tenant: SqlTenant, periods: Periods, r: Reservation): Promise<void> {
  return reserveTx(database, tenant, periods, (q) => reserveIn(q, tenant, periods, r));
}

/** Deadlock / serialization failures roll the whole transaction back, so running it again is safe. */
export async function retryTransient<T>(work: () => Promise<T>, attempts = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await work();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (i >= attempts || (code !== '40P01' && code !== '40001')) throw err;
      await new Promise((r) => setTimeout(r, 5 * i + Math.random() * 10));
    }
  }
}

/** The columns a refusal names (quota_counters; the lease path passes reservations + leases as reserved). */
export type RefusalRow = Pick<CounterRow, 'subject_type' | 'period' | 'token_limit' | 'tokens_used' | 'tokens_reserved' | 'cost_limit_micros' | 'cost_used_micros' | 'cost_reserved_micros'>;

export function refusal(row: RefusalRow | undefined, r: Pick<Reservation, 'tokens' | 'costMicros'>, periods: Periods) {
  if (!row) return providerProblems.quotaExceeded('quota counters are missing', 1, {});
  const tokenLimit = row.token_limit === null ? null : Number(row.token_limit);
  const used = Number(row.tokens_used);
  const reserved = Number(row.tokens_reserved);
  // A counter without a cost limit is refused for tokens, even when the figures it is given would still
  // fit the call (the lease path's in-flight figure comes from the holder's memory, which can lag a settle).
  const tokensOver = tokenLimit !== null && (used + reserved + r.tokens > tokenLimit || row.cost_limit_micros === null);
  const metric = tokensOver ? 'tokens' : 'cost';
  const limit = tokensOver ? tokenLimit : Number(row.cost_limit_micros);
  const usedM = tokensOver ? used : Number(row.cost_used_micros);
  const reservedM = tokensOver ? reserved : Number(row.cost_reserved_micros);
  const requested = tokensOver ? r.tokens : r.costMicros;
  const who = row.subject_type === 'user' ? 'your' : "your organization's";
  const unit = metric === 'tokens' ? 'token' : 'cost (micro-dollars)';
  // Room frees up when in-flight calls settle; otherwise only when the period rolls over.
  const periodEnd = row.period === 'daily' ? Date.parse(`${periods.day}T00:00:00Z`) + 86_400_000 : nextMonth(periods.month);
  const retryAfter = usedM + requested > (limit ?? 0) ? (periodEnd - Date.now()) / 1000 : 1;
  return providerProblems.quotaExceeded(
    `${who} ${row.period} ${unit} limit would be exceeded: limit ${limit}, used ${usedM}, in flight ${reservedM}, this request needs up to ${requested}`,
    retryAfter,
    { subject: row.subject_type, period: row.period, metric, limit, used: usedM, reserved: reservedM, requested },
  );
}

function nextMonth(month: string): number {
  const d = new Date(`${month}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + 1);
  return d.getTime();
}

export interface Settlement {
  requestId: string;
  provider: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  costMicros: number;
  latencyMs: number;
  status: number;
  stream: boolean;
  errorCode?: string | null;
  keySource: 'byok' | 'platform';
  occurredAt?: Date;
  /** The call was served from quota leases (leases/index.ts): settled by leases/settle-ticket.ts instead. */
  lease?: LeaseTicket;
}

/**
 * Settles in ONE statement (one transaction): the reservation becomes `settled` (only from `reserved`,
 * or from `released` when the expiry job got there first — then nothing is un-reserved twice), the
 * counters move reserved → used, usage_tracking is upserted and the request_logs event is appended to
 * the outbox with an event id derived from the request id. A second settle of the same request finds
 * the row settled and changes nothing.
 */
const SETTLE = `
WITH prev AS (
  SELECT request_id, state FROM providers.quota_reservations
  WHERE request_id = $1::text AND state <> 'settled'
  FOR UPDATE
), r AS (
  UPDATE providers.quota_reservations q
  SET state = 'settled', tokens_used = $2::bigint, cost_used_micros = $3::bigint, settled_at = now()
  FROM prev
  WHERE q.request_id = prev.request_id
  RETURNING q.org_id, q.user_id, q.counter_ids,
    CASE WHEN prev.state = 'reserved' THEN q.tokens_reserved ELSE 0 END AS give_tokens,
    CASE WHEN prev.state = 'reserved' THEN q.cost_reserved_micros ELSE 0 END AS give_cost
), lk AS (
  -- Counter locks in id order, as reserve takes them: no deadlock between settles and reservations.
  SELECT qc.id FROM providers.quota_counters qc, r WHERE qc.id = ANY (r.counter_ids) ORDER BY qc.id FOR UPDATE OF qc
), c AS (
  UPDATE providers.quota_counters qc
  SET tokens_used = qc.tokens_used + $2::bigint,
      tokens_reserved = greatest(qc.tokens_reserved - r.give_tokens, 0),
      cost_used_micros = qc.cost_used_micros + $3::bigint,
      cost_reserved_micros = greatest(qc.cost_reserved_micros - r.give_cost, 0)
  FROM r, lk
  WHERE qc.id = lk.id
  RETURNING qc.id
), ${usageAndRequestLogCtes('r')}
SELECT (SELECT count(*) FROM r) AS settled, (SELECT count(*) FROM c) AS counters, (SELECT count(*) FROM u) AS usage,
  -- Whether a cost alert could fire now: without one (the usual case) no evaluation round trip follows.
  EXISTS (SELECT 1 FROM providers.cost_alerts a WHERE a.org_id = $12::uuid AND a.enabled AND (a.user_id IS NULL OR a.user_id = $13::uuid)) AS alerts`;

/** Deterministic event id (uuid-shaped) so a repeated settle cannot emit a second request log. */
export function requestLogEventId(requestId: string): string {
  const h = createHash('sha256').update(`request_logs:${requestId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export async function settle(database: Database, tenant: SqlTenant, s: Settlement): Promise<boolean> {
  return (await settleWithAlerts(database, tenant, s)).settled;
}

/** Settles (one round trip: statement + COMMIT) and tells whether the tenant has enabled cost alerts. */
export async function settleWithAlerts(database: Database, tenant: SqlTenant, s: Settlement): Promise<{ settled: boolean; alerts: boolean }> {
  const occurredAt = s.occurredAt ?? new Date();
  const tokens = s.promptTokens + s.completionTokens;
  const payload = requestLogPayload(s, occurredAt);
  if (s.lease) return settleLeased(database, tenant, s, s.lease, tokens, occurredAt, payload);
  const [row] = await retryTransient(() => tenantSql(database, tenant, (q) =>
    q.query<{ settled: string; alerts: boolean }>(SETTLE, [
      s.requestId, tokens, s.costMicros, s.provider, s.model, periodsAt(occurredAt).day,
      s.promptTokens, s.completionTokens, requestLogEventId(s.requestId), occurredAt.toISOString(), JSON.stringify(payload),
      tenant.orgId, tenant.userId,
    ], { last: true, prepare: 'llc_quota_settle_v2' }),
  ));
  return { settled: Number(row?.settled ?? 0) === 1, alerts: row?.alerts === true };
}

/** The request_logs event of a settled call (the settle adds org_id and user_id from the reservation). */
export function requestLogPayload(s: Settlement, occurredAt: Date) {
  return {
    request_id: s.requestId,
    provider: s.provider,
    model: s.model,
    prompt_tokens: s.promptTokens,
    completion_tokens: s.completionTokens,
    cost_micros: s.costMicros,
    latency_ms: Math.max(0, Math.round(s.latencyMs)),
    status: s.status,
    stream: s.stream,
    error_code: s.errorCode ?? null,
    key_source: s.keySource,
    occurred_at: occurredAt.toISOString(),
  };
}
