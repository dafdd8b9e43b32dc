import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postgresEvaluator, type QueryParameter, type TimestampFormat } from './bigquery-sql.js';

/**
 * A local fake of the BigQuery REST API (v2) for the real @google-cloud/bigquery client:
 *   new BigQuery({ projectId, apiEndpoint: fake.url })
 * - tabledata.insertAll: rows checked against terraform/bigquery/schemas/<table>.json (its own checker,
 *   independent of the code under test), per-row insertErrors, skipInvalidRows semantics ("stopped" for
 *   the innocent rows of a refused request). Every accepted row is stored as sent. insertId de-duplication
 *   is what the service documents, and no more: "best effort", remembering an insertId "for at least one
 *   minute" (https://cloud.google.com/bigquery/docs/streaming-data-into-bigquery#dataconsistency). The fake
 *   drops a row whose insertId it accepted less than DEDUP_WINDOW_MS ago on its own clock (advanceClock
 *   moves it); after that a redelivery is stored again, so only the reader's SQL can remove it.
 * - jobs.query / getQueryResults (and jobs.insert + jobs.get): the query text runs against what is stored,
 *   translated minimally to PostgreSQL and evaluated there (./bigquery-sql.ts). TIMESTAMP values come back
 *   in the format the request's formatOptions ask for.
 * Chaos knobs: failNext(n), failEvery(k), timeoutNext(n), rejectRows(fn), latencyMs, incompleteQueries(n);
 * mutateQueries(fn) rewrites query texts before they run (mutation tests of the product's SQL).
 */
export const DEDUP_WINDOW_MS = 60_000;

export interface StoredRow {
  insertId?: string;
  json: Record<string, unknown>;
  /** The fake's clock when the row was accepted. */
  receivedAt: number;
}

interface Field {
  name: string;
  type: string;
  mode?: string;
}

const SCHEMA_DIR = new URL('../../terraform/bigquery/schemas/', import.meta.url);
const loadSchema = (table: string): Field[] | undefined => {
  try {
    return JSON.parse(readFileSync(new URL(`${table}.json`, SCHEMA_DIR), 'utf8')) as Field[];
  } catch {
    return undefined;
  }
};

function checkRow(schema: Field[], row: Record<string, unknown>, ignoreUnknown: boolean): string | undefined {
  const names = new Set(schema.map((f) => f.name));
  if (!ignoreUnknown) for (const k of Object.keys(row)) if (!names.has(k)) return `no such field: ${k}.`;
  for (const f of schema) {
    const v = row[f.name];
    if (v === undefined || v === null) {
      if (f.mode === 'REQUIRED') return `Missing required field: ${f.name}.`;
      continue;
    }
    const bad =
      (f.type === 'STRING' && typeof v !== 'string') ||
      ((f.type === 'INTEGER' || f.type === 'INT64') && !(Number.isSafeInteger(v) || (typeof v === 'string' && /^-?\d+$/.test(v)))) ||
      ((f.type === 'BOOLEAN' || f.type === 'BOOL') && typeof v !== 'boolean') ||
      (f.type === 'DATE' && !(typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v))) ||
      (f.type === 'TIMESTAMP' && !(typeof v === 'string' && !Number.isNaN(Date.parse(v)))) ||
      (f.type === 'JSON' && !(typeof v === 'string' && isJson(v)));
    if (bad) return `Cannot convert value to ${f.type.toLowerCase()}: ${f.name}.`;
  }
  return undefined;
}

const isJson = (s: string) => {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
};

export interface BigQueryFake {
  url: string;
  port: number;
  projectId: string;
  /** Every accepted row of a table, in arrival order, duplicates included. */
  rows(table: string): StoredRow[];
  /** One stored row per event_id: a test's own tally of what arrived, never used to answer a query. */
  unique(table: string): Record<string, unknown>[];
  /** Moves the fake's clock (insertId de-duplication window) forward. */
  advanceClock(ms: number): void;
  /** Rewrites every query text before it runs; undefined restores the texts as sent. */
  mutateQueries(fn: ((sql: string) => string) | undefined): void;
  calls: { insertAll: number; query: number; getQueryResults: number };
  failNext(n: number, status?: number): void;
  /** Every k-th insertAll request fails with 503 (0 turns it off). */
  failEvery(k: number): void;
  /** The next n insertAll requests never get an answer (the client times out). */
  timeoutNext(n: number): void;
  /** Returns a reason to reject a row (as BigQuery does for invalid rows), or undefined to accept it. */
  rejectRows(fn: ((table: string, row: Record<string, unknown>) => string | undefined) | undefined): void;
  latencyMs: number;
  /** The next n jobs.query / getQueryResults answers say jobComplete: false. */
  incompleteQueries(n: number): void;
  /** Directly seed rows (as if streamed earlier). */
  seed(table: string, rows: Record<string, unknown>[]): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startBigQueryFake(options: { projectId?: string; dataset?: string } = {}): Promise<BigQueryFake> {
  const projectId = options.projectId ?? 'fake-project';
  const tables = new Map<string, StoredRow[]>();
  /** insertId → when a row with it was last stored, per table. */
  const insertIds = new Map<string, Map<string, number>>();
  const jobs = new Map<string, { sql: string; params: QueryParameter[]; format: TimestampFormat }>();
  const evaluator = postgresEvaluator();
  let clockOffset = 0;
  const now = () => Date.now() + clockOffset;
  let mutate: ((sql: string) => string) | undefined;
  const hanging = new Set<ServerResponse>();
  let failCount = 0;
  let failStatus = 503;
  let every = 0;
  let timeouts = 0;
  let incomplete = 0;
  let reject: ((table: string, row: Record<string, unknown>) => string | undefined) | undefined;
  const calls = { insertAll: 0, query: 0, getQueryResults: 0 };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const apiError = (res: ServerResponse, status: number, reason: string, message: string) =>
    send(res, status, { error: { code: status, message, errors: [{ reason, message, domain: 'global' }], status: reason } });

  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      let data = '';
      req.setEncoding('utf8');
      req.on('data', (c) => (data += c));
      req.on('end', () => resolve(data));
      req.on('error', reject);
    });

  function insertAll(res: ServerResponse, table: string, body: { rows?: StoredRow[]; skipInvalidRows?: boolean; ignoreUnknownValues?: boolean }) {
    const schema = loadSchema(table);
    if (!schema) return apiError(res, 404, 'notFound', `Not found: Table ${projectId}:${table}`);
    const rows = body.rows ?? [];
    const errors = rows.map((r) => checkRow(schema, r.json ?? {}, !!body.ignoreUnknownValues) ?? reject?.(table, r.json ?? {}));
    const insertErrors: { index: number; errors: { reason: string; message: string; location?: string }[] }[] = [];
    const anyInvalid = errors.some(Boolean);
    const store = tables.get(table) ?? [];
    const at = now();
    const seen = insertIds.get(table) ?? new Map<string, number>();
    insertIds.set(table, seen);
    const remembered = (id: string | undefined) => id !== undefined && at - (seen.get(id) ?? -Infinity) < DEDUP_WINDOW_MS;
    rows.forEach((r, index) => {
      if (errors[index]) insertErrors.push({ index, errors: [{ reason: 'invalid', location: '', message: errors[index]! }] });
      else if (anyInvalid && !body.skipInvalidRows) insertErrors.push({ index, errors: [{ reason: 'stopped', message: '' }] });
      else if (!remembered(r.insertId)) {
        store.push({ insertId: r.insertId, json: r.json, receivedAt: at });
        if (r.insertId !== undefined) seen.set(r.insertId, at);
      }
    });
    tables.set(table, store);
    send(res, 200, insertErrors.length ? { kind: 'bigquery#tableDataInsertAllResponse', insertErrors } : { kind: 'bigquery#tableDataInsertAllResponse' });
  }

  function unique(table: string) {
    const seen = new Map<string, Record<string, unknown>>();
    for (const r of tables.get(table) ?? []) {
      const key = String(r.json.event_id ?? r.insertId ?? randomUUID());
      if (!seen.has(key)) seen.set(key, r.json);
    }
    return [...seen.values()];
  }

  async function queryAnswer(jobId: string) {
    const job = jobs.get(jobId)!;
    const jobReference = { projectId, jobId, location: 'US' };
    if (incomplete > 0) {
      incomplete--;
      return { kind: 'bigquery#queryResponse', jobReference, jobComplete: false };
    }
    const sql = mutate ? mutate(job.sql) : job.sql;
    const answer = await evaluator.run(sql, job.params, loadSchema, (table) => (tables.get(table) ?? []).map((r) => r.json), job.format);
    return {
      kind: 'bigquery#queryResponse',
      jobReference,
      jobComplete: true,
      schema: { fields: answer.fields },
      rows: answer.rows.map((values) => ({ f: values.map((v) => ({ v })) })),
      totalRows: String(answer.rows.length),
    };
  }

  /** DataFormatOptions (https://cloud.google.com/bigquery/docs/reference/rest/v2/DataFormatOptions). */
  const formatOf = (o: { useInt64Timestamp?: unknown; timestampOutputFormat?: unknown } = {}): TimestampFormat =>
    o.timestampOutputFormat === 'ISO8601_STRING' ? 'iso' : o.useInt64Timestamp === true || o.useInt64Timestamp === 'true' || o.timestampOutputFormat === 'INT64' ? 'int64' : 'float';


  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://fake');
      const path = url.pathname.replace(/^\/bigquery\/v2/, '');
      const text = req.method === 'POST' ? await read(req) : '';
      const body = text ? JSON.parse(text) : {};
      let m;
      if (req.method === 'POST' && (m = path.match(/^\/projects\/[^/]+\/datasets\/[^/]+\/tables\/([^/]+)\/insertAll$/))) {
        calls.insertAll++;
        if (timeouts > 0) {
          timeouts--;
          hanging.add(res);
          res.on('close', () => hanging.delete(res));
          return; // never answered: the client's timeout fires
        }
        if (fake.latencyMs) await new Promise((r) => setTimeout(r, fake.latencyMs));
        if (failCount > 0) {
          failCount--;
          return apiError(res, failStatus, 'backendError', 'injected failure');
        }
        if (every > 0 && calls.insertAll % every === 0) return apiError(res, 503, 'backendError', 'injected periodic failure');
        return insertAll(res, m[1]!, body);
      }
      if (req.method === 'POST' && /^\/projects\/[^/]+\/queries$/.test(path)) {
        calls.query++;
        const jobId = `job_${randomUUID()}`;
        jobs.set(jobId, { sql: body.query, params: body.queryParameters ?? [], format: formatOf(body.formatOptions) });
        return send(res, 200, await queryAnswer(jobId));
      }
      if (req.method === 'GET' && (m = path.match(/^\/projects\/[^/]+\/queries\/([^/]+)$/))) {
        calls.getQueryResults++;
        if (!jobs.has(m[1]!)) return apiError(res, 404, 'notFound', `Not found: Job ${m[1]}`);
        const job = jobs.get(m[1]!)!;
        job.format = formatOf({ useInt64Timestamp: url.searchParams.get('formatOptions.useInt64Timestamp') ?? undefined, timestampOutputFormat: url.searchParams.get('formatOptions.timestampOutputFormat') ?? undefined });
        return send(res, 200, { ...(await queryAnswer(m[1]!)), kind: 'bigquery#getQueryResultsResponse' });
      }
      if (req.method === 'POST' && /^\/projects\/[^/]+\/jobs$/.test(path)) {
        const jobId = body.jobReference?.jobId ?? `job_${randomUUID()}`;
        const q = body.configuration?.query ?? {};
        jobs.set(jobId, { sql: q.query, params: q.queryParameters ?? [], format: 'float' });
        return send(res, 200, { kind: 'bigquery#job', id: `${projectId}:US.${jobId}`, jobReference: { projectId, jobId, location: 'US' }, configuration: body.configuration, status: { state: 'DONE' } });
      }
      if (req.method === 'GET' && (m = path.match(/^\/projects\/[^/]+\/jobs\/([^/]+)$/))) {
        return send(res, 200, { kind: 'bigquery#job', jobReference: { projectId, jobId: m[1], location: 'US' }, status: { state: 'DONE' } });
      }
      apiError(res, 404, 'notFound', `the fake does not implement ${req.method} ${path}`);
    } catch (err) {
      const reason = (err as { reason?: string }).reason ?? 'invalidQuery';
      apiError(res, reason === 'notFound' ? 404 : 400, reason, (err as Error).message);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const fake: BigQueryFake = {
    url: `http://127.0.0.1:${port}`,
    port,
    projectId,
    rows: (table) => [...(tables.get(table) ?? [])],
    unique,
    advanceClock(ms) {
      clockOffset += ms;
    },
    mutateQueries(fn) {
      mutate = fn;
    },
    calls,
    failNext(n, status = 503) {
      failCount = n;
      failStatus = status;
    },
    failEvery(k) {
      every = k;
    },
    timeoutNext(n) {
      timeouts = n;
    },
    rejectRows(fn) {
      reject = fn;
    },
    latencyMs: 0,
    incompleteQueries(n) {
      incomplete = n;
    },
    seed(table, rows) {
      tables.set(table, [...(tables.get(table) ?? []), ...rows.map((json) => ({ insertId: String(json.event_id ?? randomUUID()), json, receivedAt: now() }))]);
    },
    reset() {
      tables.clear();
      insertIds.clear();
      jobs.clear();
      failCount = every = timeouts = incomplete = 0;
      reject = undefined;
      mutate = undefined;
      clockOffset = 0;
      fake.latencyMs = 0;
      calls.insertAll = calls.query = calls.getQueryResults = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }).then(() => evaluator.close()),
  };
  return fake;
}
