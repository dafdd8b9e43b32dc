import type { Stream } from './outbox.js';

/** BigQuery tables (and their analytics.* mirrors). domain_events land in audit_events with action = the event type. */
export type SinkTable = 'request_logs' | 'audit_events' | 'daily_usage';

/** One outbox row on its way to the sink. The payload contract per stream is documented in rows.ts. */
export interface SinkEvent {
  eventId: string;
  stream: Stream;
  orgId: string | null;
  occurredAt: Date;
  payload: Record<string, unknown>;
}

export interface SinkFailure {
  eventId: string;
  error: string;
  /** The row itself is wrong (schema, rejected by the sink): retrying cannot help, so the drainer parks it. */
  permanent: boolean;
}

export interface SendResult {
  delivered: string[];
  failed: SinkFailure[];
}

export interface UsageTotals {
  orgId: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costMicros: number;
}

/**
 * Where outbox events end up: BigQuery in production, analytics.* tables in the embedded mode.
 * Contract (test/support/contracts/event-sink.contract.ts): `send` accounts for every event exactly once in
 * `delivered` or `failed`; redelivering an event id never makes it count twice in what the sink reads back;
 * an invalid row fails alone (permanent) and does not block the rest of its batch; a sink outage fails the
 * whole batch as transient (never throws for it), so the drainer backs off.
 */
export interface EventSink {
  readonly kind: 'bigquery' | 'postgres';
  send(events: SinkEvent[]): Promise<SendResult>;
  /** Σ request_logs of a UTC day per org, deduplicated by event_id: the other side of usage reconciliation. */
  requestLogTotals(day: string): Promise<UsageTotals[]>;
  close?(): Promise<void>;
}
