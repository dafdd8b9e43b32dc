import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { rowsOf } from '../db/rows.js';
import type { EventSink, SendResult, SinkEvent, SinkTable, UsageTotals } from './port.js';
import { groupValidRows, type Row } from './rows.js';

const TABLES: Record<SinkTable, string> = {
  request_logs: 'analytics.request_logs',
  audit_events: 'analytics.audit_events',
  daily_usage: 'analytics.daily_usage',
};

/** SQLSTATE classes 22 (data exception) and 23 (integrity): the row is at fault, not the database. */
const isRowError = (err: unknown) => /^2[23]/.test(String((err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code ?? ''));

/**
 * Embedded EventSink: the analytics.* tables (daily partitions, DEFAULT partition catches the rest).
 * Runs on the owner connection because one batch spans organizations. The primary keys
 * (event_id, partition column) make redelivery a no-op.
 */
export function postgresEventSink(database: Database): EventSink {
  async function insert(table: SinkTable, rows: Row[]): Promise<void> {
    const relation = sql.raw(TABLES[table]);
    const prepared = table === 'audit_events' ? rows.map((r) => ({ ...r, payload: JSON.parse(String(r.payload)) })) : rows;
    await database.db.execute(
      sql`insert into ${relation} select * from jsonb_populate_recordset(null::${relation}, ${JSON.stringify(prepared)}::jsonb) on conflict do nothing`,
    );
  }

  return {
    kind: 'postgres',
    async send(events: SinkEvent[]): Promise<SendResult> {
      const result: SendResult = { delivered: [], failed: [] };
      const byTable = groupValidRows(events, result);
      for (const [table, list] of byTable) {
        try {
          await insert(table, list.map((x) => x.row));
          result.delivered.push(...list.map((x) => x.id));
        } catch (err) {
          if (!isRowError(err)) {
            const error = `analytics insert failed: ${(err as Error).message}`;
            result.failed.push(...list.map((x) => ({ eventId: x.id, error, permanent: false })));
            continue;
          }
          // One bad row must not hold back the others: find it row by row.
          for (const x of list) {
            try {
              await insert(table, [x.row]);
              result.delivered.push(x.id);
            } catch (rowErr) {
              result.failed.push({ eventId: x.id, error: `rejected by ${table}: ${(rowErr as Error).message}`, permanent: isRowError(rowErr) });
            }
          }
        }
      }
      return result;
    },
    async requestLogTotals(day: string): Promise<UsageTotals[]> {
      const result = await database.db.execute(sql`
        select org_id::text as org_id, count(*)::bigint as requests, coalesce(sum(prompt_tokens), 0)::bigint as prompt_tokens,
               coalesce(sum(completion_tokens), 0)::bigint as completion_tokens, coalesce(sum(cost_micros), 0)::bigint as cost_micros
        from analytics.request_logs
        where occurred_at >= (${day}::date)::timestamp at time zone 'UTC' and occurred_at < ((${day}::date) + 1)::timestamp at time zone 'UTC'
        group by org_id order by org_id`);
      return rowsOf(result).map((r) => ({
        orgId: String(r.org_id),
        requests: Number(r.requests),
        promptTokens: Number(r.prompt_tokens),
        completionTokens: Number(r.completion_tokens),
        costMicros: Number(r.cost_micros),
      }));
    },
  };
}
