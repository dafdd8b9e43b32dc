import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local fake of the BigQuery REST API (v2) for the real @google-cloud/bigquery client:
 *   new BigQuery({ projectId, apiEndpoint: fake.url })
 * - tabledata.insertAll: rows checked against terraform/bigquery/schemas/<table>.json (its own checker,
 *   independent of the code under test), per-row insertErrors, skipInvalidRows semantics ("stopped" for
 *   the innocent rows of a refused request). Every accepted insert is kept, duplicates included, as
 *   streaming inserts are only best-effort deduplicated by insertId; `unique()` is the dedup view.
 * - jobs.query / getQueryResults (and jobs.insert + jobs.get): enough SQL for aggregations of the form
 *   SELECT col, COUNT(*) AS a, SUM(x) AS b FROM `p.d.table` … @day … GROUP BY col, over rows deduplicated
 *   by event_id and filtered to the UTC day given as @day.
 * Chaos knobs: failNext(n), failEvery(k), timeoutNext(n), rejectRows(fn), latencyMs, incompleteQueries(n).
 */
export interface StoredRow {
  insertId?: string;
  json: Record<string, unknown>;
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
  /** One row per event_id (what the dedup views show). */
  unique(table: string): Record<string, unknown>[];
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
  const jobs = new Map<string, { sql: string; params: Record<string, string> }>();
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
    rows.forEach((r, index) => {
      if (errors[index]) insertErrors.push({ index, errors: [{ reason: 'invalid', location: '', message: errors[index]! }] });
      else if (anyInvalid && !body.skipInvalidRows) insertErrors.push({ index, errors: [{ reason: 'stopped', message: '' }] });
      else store.push({ insertId: r.insertId, json: r.json });
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

  /** The aggregation subset of GoogleSQL described above. */
  function runQuery(sqlText: string, params: Record<string, string>) {
    const from = sqlText.match(/FROM\s+`([^`]+)`/i);
    if (!from) throw new Error('the fake understands only queries reading one `project.dataset.table`');
    const table = from[1]!.split('.').pop()!;
    const schema = loadSchema(table) ?? [];
    let rows = unique(table);
    if (params.day) {
      const day = params.day;
      const col = schema.some((f) => f.name === 'occurred_at') ? 'occurred_at' : 'day';
      rows = rows.filter((r) => String(r[col] ?? '').startsWith(day) || (col === 'occurred_at' && new Date(String(r[col])).toISOString().startsWith(day)));
    }
    const select = sqlText.match(/^\s*SELECT\s+([\s\S]+?)\s+FROM/i)![1]!;
    const items = select.split(',').map((s) => s.trim());
    const groupBy = (sqlText.match(/GROUP BY\s+([\w\s,]+?)\s*(ORDER|LIMIT|$)/i)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const groups = new Map<string, Record<string, unknown>[]>();
    for (const r of rows) {
      const key = JSON.stringify(groupBy.map((g) => r[g] ?? null));
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    const fields: { name: string; type: string }[] = [];
    const out: unknown[][] = [];
    for (const item of items) {
      const m = item.match(/^(COUNT\(\*\)|SUM\((\w+)\))\s+AS\s+(\w+)$/i);
      fields.push(m ? { name: m[3]!, type: 'INTEGER' } : { name: item, type: schema.find((f) => f.name === item)?.type ?? 'STRING' });
    }
    for (const list of groups.values()) {
      out.push(
        items.map((item) => {
          const m = item.match(/^(COUNT\(\*\)|SUM\((\w+)\))\s+AS\s+(\w+)$/i);
          if (!m) return list[0]![item] ?? null;
          if (m[1]!.toUpperCase().startsWith('COUNT')) return String(list.length);
          return String(list.reduce((sum, r) => sum + Number(r[m[2]!] ?? 0), 0));
        }),
      );
    }
    return { schema: { fields }, rows: out.map((values) => ({ f: values.map((v) => ({ v })) })), totalRows: String(out.length) };
  }

  function queryAnswer(jobId: string) {
    const job = jobs.get(jobId)!;
    const jobReference = { projectId, jobId, location: 'US' };
    if (incomplete > 0) {
      incomplete--;
      return { kind: 'bigquery#queryResponse', jobReference, jobComplete: false };
    }
    return { kind: 'bigquery#queryResponse', jobReference, jobComplete: true, ...runQuery(job.sql, job.params) };
  }

  const paramsOf = (list: { name: string; parameterValue?: { value?: string } }[] = []) =>
    Object.fromEntries(list.map((p) => [p.name, String(p.parameterValue?.value ?? '')]));

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
        jobs.set(jobId, { sql: body.query, params: paramsOf(body.queryParameters) });
        return send(res, 200, queryAnswer(jobId));
      }
      if (req.method === 'GET' && (m = path.match(/^\/projects\/[^/]+\/queries\/([^/]+)$/))) {
        calls.getQueryResults++;
        if (!jobs.has(m[1]!)) return apiError(res, 404, 'notFound', `Not found: Job ${m[1]}`);
        return send(res, 200, { ...queryAnswer(m[1]!), kind: 'bigquery#getQueryResultsResponse' });
      }
      if (req.method === 'POST' && /^\/projects\/[^/]+\/jobs$/.test(path)) {
        const jobId = body.jobReference?.jobId ?? `job_${randomUUID()}`;
        const q = body.configuration?.query ?? {};
        jobs.set(jobId, { sql: q.query, params: paramsOf(q.queryParameters) });
        return send(res, 200, { kind: 'bigquery#job', id: `${projectId}:US.${jobId}`, jobReference: { projectId, jobId, location: 'US' }, configuration: body.configuration, status: { state: 'DONE' } });
      }
      if (req.method === 'GET' && (m = path.match(/^\/projects\/[^/]+\/jobs\/([^/]+)$/))) {
        return send(res, 200, { kind: 'bigquery#job', jobReference: { projectId, jobId: m[1], location: 'US' }, status: { state: 'DONE' } });
      }
      apiError(res, 404, 'notFound', `the fake does not implement ${req.method} ${path}`);
    } catch (err) {
      apiError(res, 400, 'invalidQuery', (err as Error).message);
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
      tables.set(table, [...(tables.get(table) ?? []), ...rows.map((json) => ({ insertId: String(json.event_id ?? randomUUID()), json }))]);
    },
    reset() {
      tables.clear();
      jobs.clear();
      failCount = every = timeouts = incomplete = 0;
      reject = undefined;
      fake.latencyMs = 0;
      calls.insertAll = calls.query = calls.getQueryResults = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
  return fake;
}
