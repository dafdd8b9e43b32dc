import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { costAlerts } from '../../../drizzle/schema/providers.js';
import type { Database, Tx } from '../../shared/db/index.js';
import { assertRole, decodeCursor, page, problems, rootLogger, type Tenant } from '../../shared/http/index.js';
import { providerProblems } from './errors.js';
import type { AlertNotification, Notifier } from '../../shared/notify/index.js';
import { periodsAt } from './quota.js';
import { systemSql, tenantSql, type Q } from '../../shared/db/round-trip.js';
import { assertPublicUrl } from './ssrf.js';

export interface AlertInput {
  threshold_percent: number;
  period: 'daily' | 'monthly';
  metric: 'tokens' | 'cost';
  channel: 'webhook' | 'log';
  target?: string | null;
  scope?: 'user' | 'org';
}

type Row = typeof costAlerts.$inferSelect;
export const alertView = (r: Row) => ({
  id: r.id, scope: r.userId ? 'user' : 'org', user_id: r.userId, threshold_percent: r.thresholdPercent, period: r.period, metric: r.metric,
  channel: r.channel, target: r.target, enabled: r.enabled, last_fired_at: r.lastFiredAt?.toISOString() ?? null,
  last_fired_period_start: r.lastFiredPeriodStart, created_at: r.createdAt.toISOString(), version: r.version,
});

/** Own alerts, plus the org-wide ones for admins; anything else is invisible (404). */
const visible = (t: Tenant) =>
  t.role === 'admin' || t.role === 'owner' ? or(eq(costAlerts.userId, t.userId), isNull(costAlerts.userId)) : eq(costAlerts.userId, t.userId);

/**
 * The checks of a new alert that need no database, the webhook target's DNS among them: the route
 * runs them before its transaction.
 */
export async function vetNewAlert(t: Tenant, input: AlertInput, production: boolean): Promise<void> {
  if (input.scope === 'org') assertRole(t, 'admin');
  if (input.channel === 'webhook') {
    if (!input.target) throw providerProblems.missingAlertTarget();
    await assertPublicUrl(input.target, { production, field: 'target' });
  }
}

/** After vetNewAlert. */
export async function createAlert(tx: Tx, t: Tenant, input: AlertInput) {
  const [row] = await tx.insert(costAlerts).values({
    orgId: t.orgId, userId: input.scope === 'org' ? null : t.userId, thresholdPercent: input.threshold_percent, period: input.period,
    metric: input.metric, channel: input.channel, target: input.channel === 'webhook' ? input.target! : null, createdBy: t.userId, updatedBy: t.userId,
  }).returning();
  return alertView(row!);
}

export async function listAlerts(tx: Tx, t: Tenant, query: { limit: number; cursor?: string }) {
  const after = decodeCursor(query.cursor, ['timestamp', 'uuid']);
  const rows = await tx.select().from(costAlerts)
    .where(and(visible(t), after ? or(lt(costAlerts.createdAt, new Date(after[0])), and(eq(costAlerts.createdAt, new Date(after[0])), lt(costAlerts.id, after[1]))) : undefined))
    .orderBy(desc(costAlerts.createdAt), desc(costAlerts.id)).limit(query.limit + 1);
  const result = page(rows, query.limit, (r) => [r.createdAt.toISOString(), r.id]);
  return { items: result.items.map(alertView), next_cursor: result.next_cursor };
}

export async function getAlert(tx: Tx, t: Tenant, id: string) {
  const [row] = await tx.select().from(costAlerts).where(and(eq(costAlerts.id, id), visible(t)));
  if (!row) throw problems.notFound('alert');
  return alertView(row);
}

export interface AlertPatch {
  threshold_percent?: number;
  period?: 'daily' | 'monthly';
  metric?: 'tokens' | 'cost';
  channel?: 'webhook' | 'log';
  target?: string | null;
  enabled?: boolean;
}

/** The DNS check of a new webhook target, before the route's transaction. */
export async function vetAlertPatch(input: AlertPatch, production: boolean): Promise<void> {
  if (input.target) await assertPublicUrl(input.target, { production, field: 'target' });
}

/**
 * Partial update under If-Match (after vetAlertPatch). The scope (user/org) is fixed at creation.
 * Changing what the alert measures (threshold, period, metric) re-arms it for the current period — it
 * is a new rule, and the old firing said nothing about it; toggling `enabled` does not, so pausing and
 * resuming never repeats a notification already sent for the period.
 */
export async function updateAlert(tx: Tx, t: Tenant, input: { id: string; expected: number; patch: AlertPatch }) {
  const { id, expected, patch } = input;
  const [row] = await tx.select().from(costAlerts).where(and(eq(costAlerts.id, id), visible(t))).for('update');
  if (!row) throw problems.notFound('alert');
  if (row.version !== expected) throw problems.preconditionFailed();
  const channel = patch.channel ?? row.channel;
  const target = channel === 'webhook' ? (patch.target !== undefined ? patch.target : row.target) : null;
  if (channel === 'webhook' && !target) throw providerProblems.missingAlertTarget();
  const rearm = (patch.threshold_percent !== undefined && patch.threshold_percent !== row.thresholdPercent)
    || (patch.period !== undefined && patch.period !== row.period)
    || (patch.metric !== undefined && patch.metric !== row.metric);
  const [updated] = await tx.update(costAlerts).set({
    ...(patch.threshold_percent !== undefined ? { thresholdPercent: patch.threshold_percent } : {}),
    ...(patch.period !== undefined ? { period: patch.period } : {}),
    ...(patch.metric !== undefined ? { metric: patch.metric } : {}),
    ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
    ...(rearm ? { lastFiredPeriodStart: null } : {}),
    channel, target, updatedBy: t.userId, version: sql`${costAlerts.version} + 1`,
  }).where(and(eq(costAlerts.id, id), eq(costAlerts.version, expected))).returning();
  if (!updated) throw problems.preconditionFailed();
  return alertView(updated);
}

export async function deleteAlert(tx: Tx, t: Tenant, input: { id: string; expected: number }): Promise<void> {
  const [row] = await tx.select({ version: costAlerts.version }).from(costAlerts).where(and(eq(costAlerts.id, input.id), visible(t)));
  if (!row) throw problems.notFound('alert');
  if (row.version !== input.expected) throw problems.preconditionFailed();
  await tx.delete(costAlerts).where(eq(costAlerts.id, input.id));
}

/**
 * Marks due alerts fired for the current period in one statement — the conditional update on
 * last_fired_period_start, under row locks (SKIP LOCKED between evaluators), fires each alert at most
 * once per period — and returns them for delivery after commit.
 */
const DUE = `
WITH due AS (
  SELECT a.id, a.org_id, a.user_id, a.threshold_percent, a.period, a.metric, a.channel, a.target, c.period_start::text AS period_start,
         CASE a.metric WHEN 'tokens' THEN c.tokens_used ELSE c.cost_used_micros END AS used,
         CASE a.metric WHEN 'tokens' THEN c.token_limit ELSE c.cost_limit_micros END AS lim
  FROM providers.cost_alerts a
  JOIN providers.quota_counters c
    ON c.org_id = a.org_id AND c.period = a.period
   AND c.subject_type = CASE WHEN a.user_id IS NULL THEN 'org' ELSE 'user' END
   AND c.subject_id = coalesce(a.user_id, a.org_id)
   AND c.period_start = CASE a.period WHEN 'daily' THEN $1::date ELSE $2::date END
  WHERE a.enabled
    AND a.last_fired_period_start IS DISTINCT FROM c.period_start
    AND ($3::uuid IS NULL OR (a.org_id = $3 AND (a.user_id IS NULL OR a.user_id = $4)))
    AND (CASE a.metric WHEN 'tokens' THEN c.token_limit ELSE c.cost_limit_micros END) > 0
    AND (CASE a.metric WHEN 'tokens' THEN c.tokens_used ELSE c.cost_used_micros END) * 100
        >= (CASE a.metric WHEN 'tokens' THEN c.token_limit ELSE c.cost_limit_micros END) * a.threshold_percent
  FOR UPDATE OF a SKIP LOCKED
)
UPDATE providers.cost_alerts a SET last_fired_at = now(), last_fired_period_start = due.period_start::date
FROM due WHERE a.id = due.id
RETURNING due.*`;

async function fireDue(q: Q, scope?: { orgId: string; userId: string }) {
  const { day, month } = periodsAt(new Date());
  return q.query<{ id: string; org_id: string; user_id: string | null; threshold_percent: number; period: 'daily' | 'monthly'; metric: 'tokens' | 'cost'; channel: 'webhook' | 'log'; target: string | null; period_start: string; used: string; lim: string }>(
    DUE, [day, month, scope?.orgId ?? null, scope?.userId ?? null],
  );
}

async function deliver(rows: Awaited<ReturnType<typeof fireDue>>, notifier: Notifier): Promise<number> {
  const firedAt = new Date().toISOString();
  await Promise.all(rows.map(async (r) => {
    const n: AlertNotification = {
      alert_id: r.id, org_id: r.org_id, user_id: r.user_id, period: r.period, period_start: r.period_start, metric: r.metric,
      threshold_percent: r.threshold_percent, used: Number(r.used), limit: Number(r.lim), percent: Math.floor((Number(r.used) * 100) / Number(r.lim)),
      channel: r.channel, target: r.target, fired_at: firedAt,
    };
    try {
      await notifier.notify(n);
    } catch (err) {
      rootLogger.warn('cost alert delivery failed', { alertId: r.id, error: (err as Error).message });
    }
  }));
  return rows.length;
}

/** Job entry (all orgs, owner connection) — exported for the jobs function. */
export async function evaluateCostAlertsAll(database: Database, notifier: Notifier): Promise<{ fired: number }> {
  const rows = await systemSql(database, (q) => fireDue(q));
  return { fired: await deliver(rows, notifier) };
}

/** After a settle: only the caller's alerts and their org's, as the tenant. */
export async function evaluateCostAlertsFor(database: Database, notifier: Notifier, tenant: { orgId: string; userId: string }): Promise<{ fired: number }> {
  const rows = await tenantSql(database, tenant, (q) => fireDue(q, tenant));
  return { fired: await deliver(rows, notifier) };
}

