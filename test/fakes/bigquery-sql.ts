import pg from 'pg';
import { adminUrl } from '../support/global-setup.js';

/**
 * How the BigQuery fake answers jobs.query: the GoogleSQL text it receives is translated, rule by rule and
 * only as far as PostgreSQL lacks the construct, and run by PostgreSQL over temporary tables holding what
 * insertAll stored. The fake therefore never decides what a query means: a WHERE, QUALIFY or window the
 * product drops is dropped from what PostgreSQL runs. A construct without a rule here is an error, never
 * a guess.
 *
 * Rules (GoogleSQL reference, https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax):
 * - `project.dataset.table` → a temporary table of that name built from terraform/bigquery/schemas.
 * - @name (named query parameter) → $n with the parameter's declared type.
 * - TIMESTAMP(string) → ::timestamptz in a UTC session (GoogleSQL's default time zone is UTC).
 * - TIMESTAMP_ADD(t, INTERVAL n PART) → t + interval 'n PART'.
 * - QUALIFY c (filters a SELECT after its window functions) → the SELECT gains c as a column and is wrapped
 *   in SELECT * … WHERE that column, which is the evaluation order the reference gives for QUALIFY.
 * - A FROM subquery without alias (allowed in GoogleSQL, not in PostgreSQL 15) → gets one.
 * - Outermost SELECT * EXCEPT (a, …) → SELECT *, and the columns are left out of the answer.
 */

export interface Field {
  name: string;
  type: string;
  mode?: string;
}

export interface QueryParameter {
  name: string;
  parameterType?: { type?: string };
  parameterValue?: { value?: string };
}

export interface Answer {
  fields: { name: string; type: string; mode: string }[];
  /** Values as the REST API sends them: strings (or null), TIMESTAMP in the requested format. */
  rows: (string | null)[][];
}

export type TimestampFormat = 'int64' | 'iso' | 'float';

const PG_TYPE: Record<string, string> = {
  STRING: 'text',
  INTEGER: 'bigint',
  INT64: 'bigint',
  BOOLEAN: 'boolean',
  BOOL: 'boolean',
  TIMESTAMP: 'timestamptz',
  DATE: 'date',
  // Kept as text: the REST API answers JSON columns with their JSON text.
  JSON: 'text',
};

const PARAM_TYPE: Record<string, string> = { STRING: 'text', INT64: 'bigint', BOOL: 'boolean', TIMESTAMP: 'timestamptz', DATE: 'date' };

/** Walks the text outside quotes and backticks, giving each character's parenthesis depth. */
function depths(sql: string): number[] {
  const out: number[] = [];
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (quote) {
      out.push(depth);
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') quote = c;
    if (c === ')') depth--;
    out.push(depth);
    if (c === '(') depth++;
  }
  return out;
}

function closing(sql: string, open: number): number {
  const d = depths(sql);
  for (let i = open + 1; i < sql.length; i++) if (sql[i] === ')' && d[i] === d[open]) return i;
  throw new Error(`unbalanced parenthesis at ${open}`);
}

function splitArgs(inner: string): string[] {
  const d = depths(inner);
  const args: string[] = [];
  let start = 0;
  for (let i = 0; i < inner.length; i++) if (inner[i] === ',' && d[i] === 0) (args.push(inner.slice(start, i)), (start = i + 1));
  args.push(inner.slice(start));
  return args.map((a) => a.trim());
}

function rewriteCalls(sql: string, name: string, rewrite: (args: string[]) => string): string {
  const re = new RegExp(`\\b${name}\\s*\\(`, 'i');
  let out = sql;
  for (let m = re.exec(out); m; m = re.exec(out)) {
    const open = m.index + m[0].length - 1;
    const close = closing(out, open);
    out = out.slice(0, m.index) + rewrite(splitArgs(out.slice(open + 1, close))) + out.slice(close + 1);
  }
  return out;
}

function indexAtDepth(sql: string, re: RegExp, depth: number, from: number, to: number, d = depths(sql)): number {
  const g = new RegExp(re.source, 'gi');
  g.lastIndex = from;
  for (let m = g.exec(sql); m && m.index < to; m = g.exec(sql)) if (d[m.index] === depth) return m.index;
  return -1;
}

function rewriteQualify(sql: string): string {
  let out = sql;
  for (let m = /\bQUALIFY\b/i.exec(out); m; m = /\bQUALIFY\b/i.exec(out)) {
    const d = depths(out);
    const at = m.index;
    const depth = d[at]!;
    let start = -1;
    for (let i = at; i >= 0; i--) if (d[i] === depth && /^SELECT\b/i.test(out.slice(i)) && (i === 0 || /\W/.test(out[i - 1]!))) ((start = i), (i = -1));
    let end = out.length;
    for (let i = at; i < out.length; i++) if (d[i]! < depth) ((end = i), (i = out.length));
    if (start < 0) throw new Error('QUALIFY outside a SELECT');
    const condition = out.slice(at + m[0].length, end);
    if (indexAtDepth(condition, /\b(ORDER\s+BY|LIMIT|WINDOW)\b/, 0, 0, condition.length) >= 0) throw new Error('the fake does not translate ORDER BY/LIMIT/WINDOW after QUALIFY');
    const select = out.slice(start, at);
    const from = indexAtDepth(select, /\bFROM\b/, 0, 0, select.length);
    if (from < 0) throw new Error('QUALIFY in a SELECT without FROM');
    const inner = `${select.slice(0, from)}, (${condition.trim()}) AS __qualify ${select.slice(from)}`;
    out = `${out.slice(0, start)}SELECT * FROM (${inner}) AS __qualified WHERE __qualify${out.slice(end)}`;
  }
  return out;
}

/** GoogleSQL allows `FROM (subquery)` without an alias; PostgreSQL 15 does not. */
function aliasSubqueries(sql: string): string {
  let out = sql;
  let n = 0;
  const re = /\b(FROM|JOIN)\s*\(\s*SELECT\b/gi;
  for (let m = re.exec(out); m; m = re.exec(out)) {
    const open = out.indexOf('(', m.index);
    const close = closing(out, open);
    const rest = out.slice(close + 1);
    if (!/^\s*(AS\b|(?!(WHERE|GROUP|ORDER|LIMIT|JOIN|ON|UNION|QUALIFY|HAVING|WINDOW|LEFT|RIGHT|INNER|CROSS|FULL)\b)[A-Za-z_]\w*)/i.test(rest)) {
      out = `${out.slice(0, close + 1)} AS __derived${n++}${rest}`;
    }
    re.lastIndex = open + 1;
  }
  return out;
}

export interface Translation {
  text: string;
  tables: string[];
  values: unknown[];
  dropColumns: string[];
}

export function translate(sql: string, parameters: QueryParameter[], knownTables: (name: string) => boolean): Translation {
  const tables: string[] = [];
  let text = sql.replace(/`([^`]+)`/g, (_, ref: string) => {
    const table = ref.split('.').pop()!;
    if (!knownTables(table)) throw Object.assign(new Error(`Not found: Table ${ref}`), { reason: 'notFound' });
    if (!tables.includes(table)) tables.push(table);
    return `"${table}"`;
  });
  const values: unknown[] = [];
  const index = new Map<string, number>();
  text = text.replace(/@(\w+)/g, (_, name: string) => {
    const p = parameters.find((x) => x.name === name);
    if (!p) throw new Error(`Query parameter '${name}' not found`);
    if (!index.has(name)) (values.push(p.parameterValue?.value ?? null), index.set(name, values.length));
    const type = PARAM_TYPE[p.parameterType?.type ?? 'STRING'];
    if (!type) throw new Error(`the fake does not translate parameters of type ${p.parameterType?.type}`);
    return `($${index.get(name)}::${type})`;
  });
  text = rewriteCalls(text, 'TIMESTAMP_ADD', ([t, interval]) => {
    const m = /^INTERVAL\s+(-?\d+)\s+(MICROSECOND|MILLISECOND|SECOND|MINUTE|HOUR|DAY)$/i.exec(interval ?? '');
    if (!m) throw new Error(`TIMESTAMP_ADD with ${interval}`);
    return `((${t}) + interval '${m[1]} ${m[2]!.toLowerCase()}')`;
  });
  text = rewriteCalls(text, 'TIMESTAMP', ([t]) => `((${t})::timestamptz)`);
  let dropColumns: string[] = [];
  text = text.replace(/^\s*SELECT\s+\*\s+EXCEPT\s*\(([^)]*)\)/i, (_, cols: string) => {
    dropColumns = cols.split(',').map((c) => c.trim());
    return 'SELECT *';
  });
  if (/\bEXCEPT\s*\(/i.test(text)) throw new Error('the fake translates SELECT * EXCEPT only in the outermost SELECT');
  text = aliasSubqueries(rewriteQualify(text));
  return { text, tables, values, dropColumns: [...dropColumns, '__qualify'] };
}

const RESULT_TYPE: Record<number, string> = { 16: 'BOOLEAN', 20: 'INTEGER', 21: 'INTEGER', 23: 'INTEGER', 25: 'STRING', 1043: 'STRING', 1082: 'DATE', 1184: 'TIMESTAMP', 1700: 'NUMERIC' };

/** PostgreSQL's text form of timestamptz in a UTC session → the REST form the client asked for (DataFormatOptions). */
function timestampValue(text: string, format: TimestampFormat): string {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d+))?\+00$/.exec(text);
  if (!m) throw new Error(`unexpected timestamptz text ${text}`);
  const micros = BigInt(Date.parse(`${m[1]}T${m[2]}Z`)) * 1000n + BigInt((m[3] ?? '').padEnd(6, '0').slice(0, 6) || '0');
  if (format === 'int64') return micros.toString();
  if (format === 'iso') return `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(6, '0')}Z`;
  return (Number(micros) / 1e6).toString();
}

/** One PostgreSQL session per fake; queries run one at a time, each in a transaction that is rolled back. */
export function postgresEvaluator() {
  let client: Promise<pg.Client> | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  const connect = () =>
    (client ??= (async () => {
      const c = new pg.Client({ connectionString: adminUrl(), application_name: 'bigquery-fake' });
      await c.connect();
      await c.query(`set time zone 'UTC'`);
      return c;
    })());

  async function evaluate(sql: string, parameters: QueryParameter[], schemas: (table: string) => Field[] | undefined, rowsOf: (table: string) => Record<string, unknown>[], format: TimestampFormat): Promise<Answer> {
    const t = translate(sql, parameters, (name) => !!schemas(name));
    const c = await connect();
    await c.query('begin');
    try {
      for (const table of t.tables) {
        const schema = schemas(table)!;
        await c.query(`create temporary table "${table}" (${schema.map((f) => `"${f.name}" ${PG_TYPE[f.type] ?? 'text'}`).join(', ')}) on commit drop`);
        await c.query(`insert into "${table}" select * from jsonb_populate_recordset(null::"${table}", $1::jsonb)`, [JSON.stringify(rowsOf(table))]);
      }
      const result = await c.query({ text: t.text, values: t.values, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
      const keep = result.fields.map((f, i) => [f, i] as const).filter(([f]) => !t.dropColumns.includes(f.name));
      const sourceType = (name: string) => t.tables.map((table) => schemas(table)!.find((f) => f.name === name)?.type).find(Boolean);
      const fields = keep.map(([f]) => {
        let type = RESULT_TYPE[f.dataTypeID] ?? 'STRING';
        // SUM of INT64 is INT64 in GoogleSQL; PostgreSQL widens it to numeric.
        if (type === 'NUMERIC') type = 'INTEGER';
        if (type === 'STRING' && sourceType(f.name) === 'JSON') type = 'JSON';
        return { name: f.name, type, mode: 'NULLABLE' };
      });
      const rows = (result.rows as (string | null)[][]).map((row) =>
        keep.map(([f, i], k) => {
          const v = row[i] ?? null;
          if (v === null) return null;
          if (fields[k]!.type === 'BOOLEAN') return v === 't' ? 'true' : 'false';
          if (fields[k]!.type === 'TIMESTAMP') return timestampValue(v, format);
          if (fields[k]!.type === 'INTEGER' && !/^-?\d+$/.test(v)) throw new Error(`${f.name}: ${v} is not an integer`);
          return v;
        }),
      );
      return { fields, rows };
    } finally {
      await c.query('rollback');
    }
  }

  return {
    run(...args: Parameters<typeof evaluate>): Promise<Answer> {
      const next = chain.then(() => evaluate(...args));
      chain = next.catch(() => {});
      return next;
    },
    async close() {
      if (client) await (await client.catch(() => undefined))?.end().catch(() => {});
    },
  };
}
