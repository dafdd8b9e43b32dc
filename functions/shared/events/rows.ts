import type { SendResult, SinkEvent, SinkTable } from './port.js';
import { tableSchemas, validateRow } from './schemas.js';

/**
 * Outbox payload → table row. Producers write snake_case payloads (camelCase is accepted too); the outbox
 * columns supply event_id, occurred_at and org_id. Unknown payload keys are ignored for the flat tables, so
 * a producer adding a field never parks events; what is sent is validated against the schema files.
 *
 * - request_logs: {request_id, user_id?, provider, model, prompt_tokens, completion_tokens, cost_micros,
 *   latency_ms, status, stream, error_code?}
 * - daily_usage:  {day, user_id?, provider, model, requests, prompt_tokens, completion_tokens, cost_micros}
 * - audit_events: {action, actor_id?, table_schema?, table_name?, row_id?, row_hash?, payload?}
 * - domain_events → audit_events: {type, actor_id?, ...data} becomes action = type, payload = data.
 */
export type Row = Record<string, unknown>;

export const tableOf = (stream: SinkEvent['stream']): SinkTable => (stream === 'domain_events' ? 'audit_events' : stream);

const camel = (snake: string) => snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function pick(payload: Record<string, unknown>, key: string): unknown {
  const v = payload[key] !== undefined ? payload[key] : payload[camel(key)];
  return v === undefined ? null : v;
}

function json(value: unknown): string {
  return JSON.stringify(value ?? {});
}

export function toRow(event: SinkEvent): { table: SinkTable; row: Row } {
  const p = event.payload ?? {};
  const table = tableOf(event.stream);
  const base = { event_id: event.eventId };
  const occurredAt = event.occurredAt.toISOString();
  const orgId = event.orgId ?? (pick(p, 'org_id') as string | null);
  let row: Row;
  if (event.stream === 'domain_events') {
    const { type, actor_id, actorId, org_id, orgId: _o, ...data } = p as Record<string, unknown>;
    row = { ...base, occurred_at: occurredAt, org_id: orgId, actor_id: actor_id ?? actorId ?? null, action: type ?? null, table_schema: null, table_name: null, row_id: null, row_hash: null, payload: json(data) };
  } else if (table === 'audit_events') {
    row = { ...base, occurred_at: occurredAt, org_id: orgId };
    for (const k of ['actor_id', 'action', 'table_schema', 'table_name', 'row_id', 'row_hash']) row[k] = pick(p, k);
    row.payload = json(pick(p, 'payload'));
  } else {
    row = { ...base, org_id: orgId };
    if (table === 'request_logs') row.occurred_at = occurredAt;
    for (const field of tableSchemas[table]) if (!(field.name in row)) row[field.name] = pick(p, field.name);
  }
  // Nullable columns left null are omitted, as BigQuery's insertAll expects.
  for (const k of Object.keys(row)) if (row[k] === null) delete row[k];
  return { table, row };
}

/** The row and its schema problems; an event with problems is parked, never sent. */
export function rowFor(event: SinkEvent): { table: SinkTable; row: Row; errors: string[] } {
  const { table, row } = toRow(event);
  return { table, row, errors: validateRow(tableSchemas[table], row) };
}

/**
 * Both sinks start a batch the same way: rows grouped by table, and every event whose row breaks its
 * table's schema failed permanently (parked) before anything is sent.
 */
export function groupValidRows(events: SinkEvent[], result: SendResult): Map<SinkTable, { id: string; row: Row }[]> {
  const byTable = new Map<SinkTable, { id: string; row: Row }[]>();
  for (const event of events) {
    const { table, row, errors } = rowFor(event);
    if (errors.length) {
      result.failed.push({ eventId: event.eventId, error: `invalid row for ${table}: ${errors.join('; ')}`, permanent: true });
      continue;
    }
    const list = byTable.get(table) ?? [];
    list.push({ id: event.eventId, row });
    byTable.set(table, list);
  }
  return byTable;
}
