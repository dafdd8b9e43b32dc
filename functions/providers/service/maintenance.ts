import type { Database } from '../../shared/db/index.js';
import { rootLogger, type Logger } from '../../shared/http/index.js';
import { evaluateCostAlertsAll } from './alerts.js';
import { alertWebhookSecret, type Config } from '../../shared/config.js';
import { channelNotifier, logNotifier, webhookNotifier, type Notifier } from '../../shared/notify/index.js';
import { createUrlGuard } from './ssrf.js';
import { retryTransient } from './quota.js';
import { systemSql } from '../../shared/db/round-trip.js';

/**
 * Scheduler work owned by the providers domain, called by the jobs function (owner connection,
 * all orgs). Both are idempotent and safe to run concurrently with the gateway and with themselves.
 */

/**
 * Gives back the reserved amounts of reservations that outlived their expiry (a crashed or SIGKILLed
 * instance whose settle batch never committed, a settle that kept failing), and ends leased calls'
 * journal rows that did the same (their allowance is in the expired lease: no counter moves for them). Batches of 1000 under SKIP
 * LOCKED; a settle racing the sweep is safe either way (settle only un-reserves a reservation that is
 * still 'reserved', and a late settle still bills). Each one is a call that was never billed, or an
 * instance that died before the upstream answered: it is reported (WARNING line with the request id,
 * tenant and what it held; `released` in the job result counts them) so it can be billed from the logs.
 */
const RELEASE = `
WITH expired AS (
  SELECT request_id, state FROM providers.quota_reservations
  WHERE state IN ('reserved', 'leased') AND expires_at < now()
  ORDER BY expires_at
  LIMIT 1000
  FOR UPDATE SKIP LOCKED
), r AS (
  UPDATE providers.quota_reservations q SET state = 'released', settled_at = now()
  FROM expired e WHERE q.request_id = e.request_id
  RETURNING q.request_id, q.org_id, q.user_id, q.created_at, q.counter_ids, q.tokens_reserved, q.cost_reserved_micros, e.state AS was
), per AS (
  -- Only reservation rows hold counter room: a leased call's journal row holds none (its allowance
  -- is in the lease, which reclaimExpiredLeases gives back).
  SELECT cid, sum(r.tokens_reserved) AS t, sum(r.cost_reserved_micros) AS c
  FROM r, unnest(r.counter_ids) AS cid WHERE r.was = 'reserved' GROUP BY cid
), lk AS (
  SELECT qc.id FROM providers.quota_counters qc JOIN per ON per.cid = qc.id ORDER BY qc.id FOR UPDATE OF qc
), c AS (
  UPDATE providers.quota_counters qc
  SET tokens_reserved = greatest(qc.tokens_reserved - per.t, 0), cost_reserved_micros = greatest(qc.cost_reserved_micros - per.c, 0)
  FROM per JOIN lk ON lk.id = per.cid WHERE qc.id = per.cid
  RETURNING 1
)
SELECT request_id, org_id, user_id, created_at, tokens_reserved, cost_reserved_micros, was FROM r`;

interface Released {
  request_id: string;
  org_id: string;
  user_id: string;
  created_at: Date;
  tokens_reserved: string;
  cost_reserved_micros: string;
  was: 'reserved' | 'leased';
}

export async function releaseExpiredReservations(database: Database, log: Logger = rootLogger.child({ function: 'jobs' })): Promise<{ released: number }> {
  let released = 0;
  for (;;) {
    const rows = await retryTransient(() => systemSql(database, (q) => q.query<Released>(RELEASE)));
    for (const r of rows) {
      // Not "…tokens" keys: the logger redacts those by name.
      log.warn('reservation expired unsettled: call not billed', {
        gatewayRequestId: r.request_id, orgId: r.org_id, userId: r.user_id, reservedAt: new Date(r.created_at).toISOString(),
        reserved: { tok: Number(r.tokens_reserved), costMicros: Number(r.cost_reserved_micros) }, from: r.was === 'leased' ? 'quota lease' : 'reservation',
      });
    }
    released += rows.length;
    if (rows.length < 1000) return { released };
  }
}

/** Fires due cost alerts of every org once per period and delivers them through `notifier`. */
export async function evaluateCostAlerts(database: Database, notifier: Notifier): Promise<{ fired: number }> {
  return evaluateCostAlertsAll(database, notifier);
}

/**
 * The notifier evaluateCostAlerts delivers through when the jobs function runs it: the kernel's signed
 * webhook under the providers' SSRF rule for alert targets, or the log, per alert channel.
 */
export function alertNotifier(config: Config, log: Logger): Notifier {
  const guard = createUrlGuard({ production: config.NODE_ENV === 'production' });
  return channelNotifier({ webhook: webhookNotifier({ secret: alertWebhookSecret(config), guard }), log: logNotifier(log) });
}

export { reclaimExpiredLeases } from './leases/store.js';
export type { Notifier } from '../../shared/notify/index.js';
