import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { EventSink, SinkEvent } from '../../../functions/shared/events/port.js';

/** What an adapter's test file provides: the sink, and a way to read back what it stored. */
export interface EventSinkHarness {
  sink: EventSink;
  /** Rows of a table as the dedup view shows them (one per event_id). */
  readBack(table: 'request_logs' | 'audit_events' | 'daily_usage'): Promise<Record<string, unknown>[]>;
  /** A sink of the same kind whose backend is down. */
  outage(): Promise<EventSink>;
  /** Makes the backend refuse rows with status > 599 (PostgreSQL does so by CHECK on its own). */
  refuseBadStatus?(): void;
  /** Lets the backend forget what it was sent, as far as it documents forgetting (BigQuery: the insertId window). */
  forgetDeliveries?(): void;
}

const today = () => new Date().toISOString().slice(0, 10);

export function requestLog(orgId: string, overrides: Record<string, unknown> = {}, occurredAt = new Date()): SinkEvent {
  return {
    eventId: randomUUID(),
    stream: 'request_logs',
    orgId,
    occurredAt,
    payload: { request_id: `req_${randomUUID()}`, user_id: randomUUID(), provider: 'openai', model: 'gpt-4o-mini', prompt_tokens: 10, completion_tokens: 5, cost_micros: 42, latency_ms: 120, status: 200, stream: false, ...overrides },
  };
}

/**
 * The EventSink contract: every adapter passes the same cases. They are a table so that a mutation test
 * can run one case against a deliberately broken adapter and see it fail.
 */
export const eventSinkCases: Record<string, (h: EventSinkHarness) => Promise<void>> = {
  'delivers every stream to its table with the fields of the schema files': async (h) => {
    const orgId = randomUUID();
    const events: SinkEvent[] = [
      requestLog(orgId, { error_code: 'upstream-timeout', status: 504, stream: true }),
      { eventId: randomUUID(), stream: 'daily_usage', orgId, occurredAt: new Date(), payload: { day: today(), user_id: randomUUID(), provider: 'openai', model: 'm', requests: 3, prompt_tokens: 30, completion_tokens: 15, cost_micros: 126 } },
      { eventId: randomUUID(), stream: 'audit_events', orgId, occurredAt: new Date(), payload: { action: 'insert', table_schema: 'projects', table_name: 'projects', row_id: 'r1', row_hash: 'a'.repeat(64), payload: { txid: 1, new_data: { name: 'x' } } } },
      { eventId: randomUUID(), stream: 'domain_events', orgId: null, occurredAt: new Date(), payload: { type: 'provider.health_changed', provider_id: 'openai', from: 'unknown', to: 'healthy' } },
    ];
    const result = await h.sink.send(events);
    expect(result.failed).toEqual([]);
    expect(result.delivered.sort()).toEqual(events.map((e) => e.eventId).sort());

    const logs = await h.readBack('request_logs');
    const log = logs.find((r) => r.event_id === events[0]!.eventId)!;
    expect(log).toMatchObject({ org_id: orgId, provider: 'openai', status: 504, stream: true, error_code: 'upstream-timeout' });
    expect(Number(log.prompt_tokens)).toBe(10);
    const usage = (await h.readBack('daily_usage')).find((r) => r.event_id === events[1]!.eventId)!;
    expect(String(usage.day)).toBe(today());
    expect(Number(usage.requests)).toBe(3);
    const audits = await h.readBack('audit_events');
    const audit = audits.find((r) => r.event_id === events[2]!.eventId)!;
    expect(audit).toMatchObject({ action: 'insert', table_name: 'projects', row_hash: 'a'.repeat(64) });
    const domain = audits.find((r) => r.event_id === events[3]!.eventId)!;
    expect(domain.action).toBe('provider.health_changed');
    const payload = typeof domain.payload === 'string' ? JSON.parse(domain.payload) : domain.payload;
    expect(payload).toEqual({ provider_id: 'openai', from: 'unknown', to: 'healthy' });
  },

  'redelivering the same event ids does not add rows': async (h) => {
    const orgId = randomUUID();
    const events = [requestLog(orgId), requestLog(orgId)];
    await h.sink.send(events);
    // Past what the backend itself remembers, only the readers' de-duplication keeps the count.
    h.forgetDeliveries?.();
    const again = await h.sink.send(events);
    expect(again.delivered.sort()).toEqual(events.map((e) => e.eventId).sort());
    const mine = (await h.readBack('request_logs')).filter((r) => r.org_id === orgId);
    expect(mine).toHaveLength(2);
    const [totals] = (await h.sink.requestLogTotals(today())).filter((t) => t.orgId === orgId);
    expect(totals).toEqual({ orgId, requests: 2, promptTokens: 20, completionTokens: 10, costMicros: 84 });
  },

  'an event that breaks the schema fails alone, permanently': async (h) => {
    const orgId = randomUUID();
    const good = requestLog(orgId);
    const bad = requestLog(orgId, { model: undefined, prompt_tokens: 'many' });
    const result = await h.sink.send([good, bad]);
    expect(result.delivered).toEqual([good.eventId]);
    expect(result.failed).toEqual([{ eventId: bad.eventId, error: expect.stringMatching(/model|prompt_tokens/), permanent: true }]);
  },

  'a row the backend refuses fails alone, permanently, and the rest of the batch lands': async (h) => {
    h.refuseBadStatus?.();
    const orgId = randomUUID();
    const good = requestLog(orgId);
    const refused = requestLog(orgId, { status: 700 });
    const result = await h.sink.send([good, refused]);
    expect(result.delivered).toEqual([good.eventId]);
    expect(result.failed).toMatchObject([{ eventId: refused.eventId, permanent: true }]);
    expect((await h.readBack('request_logs')).filter((r) => r.org_id === orgId).map((r) => r.event_id)).toEqual([good.eventId]);
  },

  'an outage fails the whole batch as transient instead of throwing': async (h) => {
    const sink = await h.outage();
    const events = [requestLog(randomUUID()), requestLog(randomUUID())];
    const result = await sink.send(events);
    expect(result.delivered).toEqual([]);
    expect(result.failed.map((f) => [f.eventId, f.permanent]).sort()).toEqual(events.map((e) => [e.eventId, false]).sort());
  },

  'reconciliation totals count one UTC day only': async (h) => {
    const orgId = randomUUID();
    const now = new Date();
    const yesterday = new Date(now.getTime() - 86_400_000);
    await h.sink.send([requestLog(orgId, {}, now), requestLog(orgId, { prompt_tokens: 100 }, yesterday)]);
    const [todays] = (await h.sink.requestLogTotals(today())).filter((t) => t.orgId === orgId);
    expect(todays).toMatchObject({ requests: 1, promptTokens: 10 });
    const [before] = (await h.sink.requestLogTotals(yesterday.toISOString().slice(0, 10))).filter((t) => t.orgId === orgId);
    expect(before).toMatchObject({ requests: 1, promptTokens: 100 });
  },
};

export function describeEventSink(name: string, make: () => Promise<EventSinkHarness>) {
  describe(`EventSink contract: ${name}`, () => {
    for (const [title, run] of Object.entries(eventSinkCases)) it(title, async () => run(await make()));
  });
}
