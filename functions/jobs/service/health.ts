import { sql } from 'drizzle-orm';
import type { Database, Tx } from '../../shared/db/database.js';
import { withSystem } from '../../shared/db/tenant.js';
import { writeOutbox } from '../../shared/events/outbox.js';
import { rowsOf } from '../../shared/db/rows.js';

export type Health = 'healthy' | 'degraded' | 'down' | 'unknown';

export interface ProbeTarget {
  id: string;
  kind: string;
  baseUrl: string | null;
}

export interface ProbeResult {
  status: Exclude<Health, 'unknown'>;
  latencyMs: number;
  error?: string;
}

export type ProviderProbe = (target: ProbeTarget) => Promise<ProbeResult>;

/** Results that must agree in a row before a provider's status changes (flap suppression). */
export const AGREEING_RESULTS = 3;
const SLOW_MS = 5_000;

const DEFAULT_BASE: Record<string, string> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com/v1',
  gemini: 'https://generativelanguage.googleapis.com/v1beta',
};

/**
 * An unauthenticated GET of the API root's model list: any HTTP answer below 500 (401 included) proves the
 * upstream is up and reachable; 429 or a slow answer is degraded; 5xx, timeouts and network errors are down.
 */
export function httpProbe(timeoutMs = 10_000): ProviderProbe {
  return async (target) => {
    const base = (target.baseUrl ?? DEFAULT_BASE[target.kind] ?? '').replace(/\/+$/, '');
    if (!base) return { status: 'down', latencyMs: 0, error: 'no base URL' };
    const started = performance.now();
    try {
      const res = await fetch(`${base}/models`, { method: 'GET', signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
      await res.body?.cancel().catch(() => {});
      const latencyMs = Math.round(performance.now() - started);
      if (res.status >= 500) return { status: 'down', latencyMs, error: `HTTP ${res.status}` };
      if (res.status === 429 || latencyMs > SLOW_MS) return { status: 'degraded', latencyMs, ...(res.status === 429 ? { error: 'HTTP 429' } : {}) };
      return { status: 'healthy', latencyMs };
    } catch (err) {
      return { status: 'down', latencyMs: Math.round(performance.now() - started), error: (err as Error).name === 'TimeoutError' ? 'timeout' : (err as Error).message };
    }
  };
}

/**
 * Next state of a provider_health row: `pending_status` is a different result seen `consecutive` times in
 * a row; at AGREEING_RESULTS it becomes `status`. A result equal to the current status clears the pending one.
 */
export function nextHealth(current: { status: Health; pendingStatus: Health | null; consecutive: number }, result: Health) {
  let { status, pendingStatus, consecutive } = current;
  let changed: { from: Health; to: Health } | undefined;
  if (result === status) {
    pendingStatus = null;
    consecutive = 0;
  } else if (result === pendingStatus) {
    consecutive += 1;
  } else {
    pendingStatus = result;
    consecutive = 1;
  }
  if (pendingStatus && consecutive >= AGREEING_RESULTS) {
    changed = { from: status, to: pendingStatus };
    status = pendingStatus;
    pendingStatus = null;
    consecutive = 0;
  }
  return { status, pendingStatus, consecutive, changed };
}

/**
 * One probe's result recorded in the caller's (system) transaction: the provider_health row under its
 * lock with the flap-suppressed status, the check row, and a provider.health_changed event on a change.
 */
export async function recordProbe(tx: Tx, { target, result }: { target: ProbeTarget; result: ProbeResult }) {
  const [row] = rowsOf(await tx.execute(sql`select status, pending_status, consecutive from providers.provider_health where provider_id = ${target.id} for update`));
  const next = nextHealth(
    { status: (row?.status as Health) ?? 'unknown', pendingStatus: (row?.pending_status as Health | null) ?? null, consecutive: Number(row?.consecutive ?? 0) },
    result.status,
  );
  await tx.execute(sql`
    insert into providers.provider_health (provider_id, status, latency_ms, consecutive, pending_status, last_error, checked_at)
    values (${target.id}, ${next.status}, ${result.latencyMs}, ${next.consecutive}, ${next.pendingStatus}, ${result.error ?? null}, now())
    on conflict (provider_id) do update set status = excluded.status, latency_ms = excluded.latency_ms, consecutive = excluded.consecutive,
      pending_status = excluded.pending_status, last_error = excluded.last_error, checked_at = excluded.checked_at`);
  await tx.execute(sql`
    insert into providers.provider_health_checks (provider_id, status, latency_ms, error)
    values (${target.id}, ${result.status}, ${result.latencyMs}, ${result.error ?? null})`);
  if (next.changed) {
    await writeOutbox(tx, {
      stream: 'domain_events',
      payload: { type: 'provider.health_changed', provider_id: target.id, from: next.changed.from, to: next.changed.to, latency_ms: result.latencyMs, error: result.error ?? null },
    });
  }
  return {
    report: { provider_id: target.id, probe: result.status, latency_ms: result.latencyMs, status: next.status, pending_status: next.pendingStatus, consecutive: next.consecutive },
    change: next.changed ? { provider_id: target.id, ...next.changed } : undefined,
  };
}

/**
 * Probes every enabled catalog provider (outside any transaction: probes wait on the network), then
 * records each result in its own short system transaction (recordProbe), so one provider's row lock
 * never waits on another's.
 */
export async function checkProviderHealth(database: Database, { probe }: { probe: ProviderProbe }): Promise<Record<string, unknown>> {
  const targets = rowsOf(await database.db.execute(sql`select id, kind, base_url from providers.providers where enabled order by id`)).map((r) => ({
    id: r.id as string,
    kind: r.kind as string,
    baseUrl: (r.base_url as string | null) ?? null,
  }));
  const results = await Promise.all(targets.map(async (t) => ({ target: t, result: await probe(t).catch((err: Error) => ({ status: 'down' as const, latencyMs: 0, error: err.message })) })));
  const report: Record<string, unknown>[] = [];
  const changes: Record<string, unknown>[] = [];
  for (const probed of results) {
    const { report: line, change } = await withSystem(database, (tx) => recordProbe(tx, probed));
    report.push(line);
    if (change) changes.push(change);
  }
  return { providers: targets.length, results: report, changes };
}
