import type { BigQuery } from '@google-cloud/bigquery';
import type { EventSink, SendResult, SinkEvent, SinkTable, UsageTotals } from './port.js';
import { groupValidRows, type Row } from './rows.js';

export interface BigQuerySinkOptions {
  projectId: string;
  dataset: string;
  /** Test hook: the local fake of the REST API (http://127.0.0.1:PORT). Auth is skipped for custom endpoints. */
  apiEndpoint?: string;
  /** Per request; a timed-out batch is a transient failure the drainer retries. */
  timeoutMs?: number;
}

/** Row-level reasons BigQuery gives when the row itself is wrong; others (stopped, backendError, timeout) are transient. */
const PERMANENT_REASONS = new Set(['invalid', 'invalidQuery', 'notFound']);

interface InsertError {
  row?: { insertId?: string };
  errors?: { reason?: string; message?: string }[];
}

/**
 * Production EventSink: streaming insert (tabledata.insertAll) with insertId = event_id. Rows are checked
 * against terraform/bigquery/schemas before sending; skipInvalidRows lets the good rows of a batch land
 * while BigQuery reports the bad ones, and the client's own partial retries are off because the outbox
 * drainer owns retries and backoff. The client is imported on first use (cold start).
 */
export function bigQueryEventSink(options: BigQuerySinkOptions): EventSink {
  const timeoutMs = options.timeoutMs ?? 20_000;
  let client: Promise<BigQuery> | undefined;
  const bigquery = () =>
    (client ??= import('@google-cloud/bigquery').then(
      ({ BigQuery }) =>
        new BigQuery({
          projectId: options.projectId,
          ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
          autoRetry: false,
          timeout: timeoutMs,
        } as ConstructorParameters<typeof BigQuery>[0]),
    ));

  async function insert(table: SinkTable, list: { id: string; row: Row }[], result: SendResult): Promise<void> {
    const bq = await bigquery();
    try {
      await withTimeout(
        bq
          .dataset(options.dataset)
          .table(table)
          .insert(
            list.map((x) => ({ insertId: x.id, json: x.row })),
            { raw: true, skipInvalidRows: true, ignoreUnknownValues: false, partialRetries: 0 } as never,
          ),
        timeoutMs,
        `bigquery ${table} insert`,
      );
      result.delivered.push(...list.map((x) => x.id));
    } catch (err) {
      const rowErrors = (err as { name?: string; errors?: InsertError[] }).name === 'PartialFailureError' ? (err as { errors: InsertError[] }).errors : undefined;
      if (!rowErrors) {
        const error = `bigquery ${table} insert failed: ${(err as Error).message}`;
        result.failed.push(...list.map((x) => ({ eventId: x.id, error, permanent: false })));
        return;
      }
      const failedIds = new Set<string>();
      for (const e of rowErrors) {
        const id = e.row?.insertId;
        if (!id) continue;
        failedIds.add(id);
        const reasons = (e.errors ?? []).map((x) => x.reason ?? 'unknown');
        const message = (e.errors ?? []).map((x) => `${x.reason}: ${x.message}`).join('; ');
        result.failed.push({ eventId: id, error: `bigquery rejected the row: ${message}`, permanent: reasons.some((r) => PERMANENT_REASONS.has(r)) });
      }
      result.delivered.push(...list.filter((x) => !failedIds.has(x.id)).map((x) => x.id));
    }
  }

  return {
    kind: 'bigquery',
    async send(events: SinkEvent[]): Promise<SendResult> {
      const result: SendResult = { delivered: [], failed: [] };
      const byTable = groupValidRows(events, result);
      await Promise.all([...byTable].map(([table, list]) => insert(table, list, result)));
      return result;
    },
    async requestLogTotals(day: string): Promise<UsageTotals[]> {
      const bq = await bigquery();
      const table = `\`${options.projectId}.${options.dataset}.request_logs\``;
      // Inline dedup by event_id (streaming insert is at least once); the occurred_at range is the partition filter.
      const query = `SELECT org_id, COUNT(*) AS requests, SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens, SUM(cost_micros) AS cost_micros
FROM (
  SELECT * FROM ${table}
  WHERE occurred_at >= TIMESTAMP(@day) AND occurred_at < TIMESTAMP_ADD(TIMESTAMP(@day), INTERVAL 1 DAY)
  QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY occurred_at) = 1
)
GROUP BY org_id`;
      const [rows] = await withTimeout(bq.query({ query, params: { day }, types: { day: 'STRING' } }), timeoutMs * 3, 'bigquery query');
      return (rows as Record<string, unknown>[])
        .map((r) => ({
          orgId: String(r.org_id),
          requests: Number(r.requests ?? 0),
          promptTokens: Number(r.prompt_tokens ?? 0),
          completionTokens: Number(r.completion_tokens ?? 0),
          costMicros: Number(r.cost_micros ?? 0),
        }))
        .sort((a, b) => a.orgId.localeCompare(b.orgId));
    },
  };
}

/** The client's own timeout does not cover every stage of a request; a batch must never hang a drainer past its lease. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
