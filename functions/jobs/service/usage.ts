import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { withSystem } from '../../shared/db/tenant.js';
import { uuidArray } from '../../shared/events/drain.js';
import { deterministicUuid } from '../../shared/events/ids.js';
import { writeOutbox, type OutboxEvent } from '../../shared/events/outbox.js';
import type { EventSink, UsageTotals } from '../../shared/events/port.js';
import { rowsOf } from '../../shared/db/rows.js';
import { problems } from '../../shared/http/problem.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const utcDay = (d: Date) => d.toISOString().slice(0, 10);

/** The day a run aggregates: the one named, else yesterday (UTC). Only closed days: a day still running would change after publishing. */
export function aggregationDay(requested: string | undefined, now = new Date()): string {
  const today = utcDay(now);
  const day = requested ?? utcDay(new Date(now.getTime() - 86_400_000));
  // Date.parse accepts impossible days (2024-02-30 rolls over); a real calendar day survives the round trip.
  const parsed = new Date(`${day}T00:00:00.000Z`);
  // Year 0000 survives the round trip in JavaScript but not in PostgreSQL (no year zero): refused too.
  if (!DAY.test(day) || Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== day || day.startsWith('0000')) {
    throw problems.badRequest('day must be a calendar date, YYYY-MM-DD', 'invalid-day');
  }
  if (day >= today) throw problems.badRequest(`day ${day} is not over yet (UTC); aggregate closed days only`, 'day-not-closed');
  return day;
}

const FIELDS = ['requests', 'promptTokens', 'completionTokens', 'costMicros'] as const;
const SNAKE: Record<(typeof FIELDS)[number], string> = { requests: 'requests', promptTokens: 'prompt_tokens', completionTokens: 'completion_tokens', costMicros: 'cost_micros' };

/**
 * daily_usage for one UTC day: one event per (org, user, provider, model) row of usage_tracking, with an
 * event id derived from that key, so reruns add nothing. Then reconciliation: Σ usage_tracking vs
 * Σ request_logs in the sink, per org, with request logs still waiting in the outbox counted apart
 * (they explain a shortfall that the next drain fixes).
 */
export async function aggregateUsage(database: Database, { sink, day }: { sink: EventSink; day: string }): Promise<Record<string, unknown>> {
  const usage = rowsOf(
    await database.db.execute(sql`
      select org_id::text, user_id::text, provider, model, requests, prompt_tokens, completion_tokens, cost_micros
      from providers.usage_tracking where day = ${day}::date order by org_id, user_id, provider, model`),
  );
  const events: OutboxEvent[] = usage.map((r) => ({
    stream: 'daily_usage',
    eventId: deterministicUuid('daily_usage', day, r.org_id as string, r.user_id as string, r.provider as string, r.model as string),
    orgId: r.org_id as string,
    occurredAt: new Date(`${day}T00:00:00.000Z`),
    payload: {
      day,
      user_id: r.user_id,
      provider: r.provider,
      model: r.model,
      requests: Number(r.requests),
      prompt_tokens: Number(r.prompt_tokens),
      completion_tokens: Number(r.completion_tokens),
      cost_micros: Number(r.cost_micros),
    },
  }));
  const ids = events.map((e) => e.eventId!);
  const already = ids.length
    ? Number(rowsOf(await database.db.execute(sql`select count(*)::int as n from ops.outbox where event_id = any(${uuidArray(ids)}::uuid[])`))[0]!.n)
    : 0;
  await withSystem(database, async (tx) => {
    for (let i = 0; i < events.length; i += 500) await writeOutbox(tx, events.slice(i, i + 500));
  });

  // Reconciliation per org.
  const byOrg = new Map<string, UsageTotals>();
  for (const r of usage) {
    const t = byOrg.get(r.org_id as string) ?? { orgId: r.org_id as string, requests: 0, promptTokens: 0, completionTokens: 0, costMicros: 0 };
    t.requests += Number(r.requests);
    t.promptTokens += Number(r.prompt_tokens);
    t.completionTokens += Number(r.completion_tokens);
    t.costMicros += Number(r.cost_micros);
    byOrg.set(t.orgId, t);
  }
  const logs = new Map((await sink.requestLogTotals(day)).map((t) => [t.orgId, t]));
  const pending = rowsOf(
    await database.db.execute(sql`
      select count(*)::int as n from ops.outbox
      where stream = 'request_logs' and delivered_at is null
        and occurred_at >= (${day}::date)::timestamp at time zone 'UTC' and occurred_at < ((${day}::date) + 1)::timestamp at time zone 'UTC'`),
  )[0]!.n as number;
  const mismatches: { org_id: string; field: string; usage_tracking: number; request_logs: number }[] = [];
  for (const org of new Set([...byOrg.keys(), ...logs.keys()])) {
    const u = byOrg.get(org);
    const l = logs.get(org);
    for (const f of FIELDS) {
      const a = u?.[f] ?? 0;
      const b = l?.[f] ?? 0;
      if (a !== b) mismatches.push({ org_id: org, field: SNAKE[f], usage_tracking: a, request_logs: b });
    }
  }
  const sum = (list: Iterable<UsageTotals>) => {
    const total = { requests: 0, prompt_tokens: 0, completion_tokens: 0, cost_micros: 0 };
    for (const t of list) for (const f of FIELDS) total[SNAKE[f] as keyof typeof total] += t[f];
    return total;
  };
  return {
    day,
    usage_rows: usage.length,
    emitted: events.length - already,
    already_emitted: already,
    reconciliation: {
      usage_tracking: sum(byOrg.values()),
      request_logs: sum(logs.values()),
      request_logs_pending_in_outbox: pending,
      balanced: mismatches.length === 0,
      mismatches: mismatches.slice(0, 100),
    },
  };
}
