import { expect } from 'vitest';
import type { Database } from '../../functions/shared/db/database.js';
import { rowFor } from '../../functions/shared/events/rows.js';

export interface OutboxRow {
  event_id: string;
  stream: string;
  org_id: string | null;
  occurred_at: Date;
  payload: Record<string, any>;
}

/** The org's domain events in ops.outbox, in the order they were emitted. */
export async function domainEvents(database: Database, orgId: string): Promise<OutboxRow[]> {
  const { rows } = await database.pool!.query(
    `select event_id::text, stream, org_id::text, occurred_at, payload from ops.outbox where org_id = $1 and stream = 'domain_events' order by occurred_at, id`,
    [orgId],
  );
  return rows as OutboxRow[];
}

export const typesOf = (events: OutboxRow[]) => events.map((e) => e.payload.type as string);

/** Every event maps to an analytics.audit_events row that the BigQuery schema file accepts. */
export function expectValidRows(events: OutboxRow[]): void {
  for (const e of events) {
    const { table, row, errors } = rowFor({ eventId: e.event_id, stream: e.stream as never, orgId: e.org_id, occurredAt: new Date(e.occurred_at), payload: e.payload });
    expect(errors, JSON.stringify(e.payload)).toEqual([]);
    expect(table).toBe('audit_events');
    expect(row).toMatchObject({ action: e.payload.type, org_id: e.org_id, event_id: e.event_id });
  }
}
