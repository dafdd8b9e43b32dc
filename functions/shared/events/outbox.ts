import { randomUUID } from 'node:crypto';
import { outbox } from '../../../drizzle/schema/ops.js';
import type { Queryable } from '../db/database.js';

export type Stream = 'request_logs' | 'audit_events' | 'daily_usage' | 'domain_events';

export interface OutboxEvent {
  stream: Stream;
  /** Deterministic ids make re-emitting idempotent (the sink dedups by event_id). */
  eventId?: string;
  orgId?: string | null;
  occurredAt?: Date;
  payload: Record<string, unknown>;
}

/**
 * Appends events to ops.outbox inside the caller's transaction, so an event exists if and only
 * if the change that produced it committed. Delivery to the EventSink is the drain job's work.
 * A repeated event_id is ignored (idempotent retries).
 */
export async function writeOutbox(tx: Queryable, events: OutboxEvent | OutboxEvent[]): Promise<string[]> {
  const list = Array.isArray(events) ? events : [events];
  if (!list.length) return [];
  const rows = list.map((e) => ({
    eventId: e.eventId ?? randomUUID(),
    stream: e.stream,
    orgId: e.orgId ?? null,
    occurredAt: e.occurredAt ?? new Date(),
    payload: e.payload,
  }));
  // No conflict target on purpose: naming one needs SELECT on its columns, and the app role may only INSERT
  // here. event_id and id are the table's only unique keys, so this still only skips a repeated event_id.
  await tx.insert(outbox).values(rows).onConflictDoNothing();
  return rows.map((r) => r.eventId);
}
