import type pg from 'pg';
import type { Database } from './database.js';

/**
 * The kernel's one-round-trip transactions, for hot paths (the gateway's reserve and settle batches,
 * quota leases, API-key lookups): one pooled connection, hand-written statements, as few round trips as
 * possible. `tenantSql` has withTenant's semantics exactly (application role, app.org_id / app.user_id
 * set, row-level security applies); `systemSql` is withSystem's; `appRoleSql` is the application role
 * with no tenant (only SECURITY DEFINER doors). Everything else uses withTenant / the route's inTenant.
 *
 * Round trips: node-postgres cannot pipeline, and a parameterised (extended-protocol) statement cannot
 * share a round trip with BEGIN and set_config. So the FIRST statement of a transaction is sent with
 * BEGIN and the tenant setup as one simple-protocol query, its parameters inlined as literals by
 * `inline()` (uuid/number/date/boolean checked, text escaped as E'' literals, NUL refused); a statement
 * flagged `last` carries the COMMIT too. A one-statement transaction is then ONE round trip, and no
 * row lock it takes is held across the network. Later statements keep the extended protocol.
 */
export interface QueryOptions {
  /** This statement ends the transaction: COMMIT goes in the same round trip (ctl.rollback is ignored). */
  last?: boolean;
  /**
   * Server-side prepared statement name (hot statements): PREPAREd once per connection inside the
   * batch, then EXECUTEd with literals, so PostgreSQL stops parsing and planning it on every call.
   * The text must cast every parameter ($1::uuid …): PREPARE infers the parameter types from them.
   */
  prepare?: string;
}

export interface Q {
  query<T = Record<string, unknown>>(text: string, params?: unknown[], options?: QueryOptions): Promise<T[]>;
}

export interface TxControl {
  /** End with ROLLBACK instead of COMMIT (e.g. a reservation refused after a partial update). */
  rollback: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ROLE = /^[a-z_][a-z0-9_]*$/;

export interface SqlTenant {
  orgId: string;
  userId: string;
}

export async function tenantSql<T>(database: Database, tenant: SqlTenant, fn: (q: Q, ctl: TxControl) => Promise<T>): Promise<T> {
  if (!UUID.test(tenant.orgId) || !UUID.test(tenant.userId) || !ROLE.test(database.appRole)) throw new Error('invalid tenant context');
  const setup = `select set_config('app.org_id', '${tenant.orgId}', true), set_config('app.user_id', '${tenant.userId}', true), set_config('role', '${database.appRole}', true)`;
  return run(database, setup, fn);
}

/**
 * Application-role transaction with NO tenant: row-level security then shows no tenant row at all, so
 * the transaction can do only what SECURITY DEFINER functions granted to the role allow (the
 * cross-tenant settle batch, see settle-batcher.ts). Never a substitute for tenantSql.
 */
export async function appRoleSql<T>(database: Database, fn: (q: Q, ctl: TxControl) => Promise<T>): Promise<T> {
  if (!ROLE.test(database.appRole)) throw new Error('invalid application role');
  return run(database, `select set_config('app.org_id', '', true), set_config('role', '${database.appRole}', true)`, fn);
}

/** Owner-role transaction: only for lookups before the tenant is known and for scheduler jobs. */
export async function systemSql<T>(database: Database, fn: (q: Q, ctl: TxControl) => Promise<T>): Promise<T> {
  return run(database, undefined, fn);
}

/** A value as an SQL literal. Text is always an E'' literal (correct whatever standard_conforming_strings says). */
export function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('non-finite number parameter');
    return value < 0 ? `(${value})` : String(value);
  }
  if (typeof value === 'bigint') return value < 0n ? `(${value})` : String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return literal(value.toISOString());
  if (Array.isArray(value)) return `ARRAY[${value.map(literal).join(', ')}]`;
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  // PostgreSQL text cannot hold NUL; a parameter would be refused by the server the same way.
  if (s.includes('\0')) throw new Error('NUL byte in a text parameter');
  return `E'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * Replaces $1..$n by literals. Our statements carry no dollar-quoted bodies; quoted strings, quoted
 * identifiers and comments are skipped so a `$1` inside them is left alone.
 */
export function inline(text: string, params: unknown[] = []): string {
  let out = '';
  for (let i = 0; i < text.length; ) {
    const ch = text[i]!;
    if (ch === "'" || ch === '"') {
      let j = i + 1;
      while (j < text.length && !(text[j] === ch && text[j + 1] !== ch)) j += text[j] === ch ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (ch === '-' && text[i + 1] === '-') {
      const j = text.indexOf('\n', i);
      const end = j < 0 ? text.length : j;
      out += text.slice(i, end);
      i = end;
    } else if (ch === '$' && /[0-9]/.test(text[i + 1] ?? '')) {
      let j = i + 1;
      while (j < text.length && /[0-9]/.test(text[j]!)) j++;
      const n = Number(text.slice(i + 1, j));
      if (n < 1 || n > params.length) throw new Error(`no value for $${n}`);
      out += literal(params[n - 1]);
      i = j;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/** Statements already PREPAREd on each pooled connection (a new connection starts empty). */
const preparedOn = new WeakMap<object, Set<string>>();
const NAME = /^[a-z_][a-z0-9_]*$/;

async function run<T>(database: Database, setup: string | undefined, fn: (q: Q, ctl: TxControl) => Promise<T>): Promise<T> {
  const ctl: TxControl = { rollback: false };
  if (database.pool) {
    const client = await database.pool.connect();
    let broken: Error | undefined;
    let state = 'idle' as 'idle' | 'open' | 'ended';
    /** A batch carrying a PREPARE failed: whether the statement exists is unknown, so the connection is dropped. */
    let preparing = false;
    try {
      const q: Q = {
        query: async <R>(text: string, params?: unknown[], options?: QueryOptions) => {
          if (state === 'ended') throw new Error('transaction already committed');
          const last = options?.last === true;
          if (state === 'open' && !last) return (await client.query(text, params)).rows as R[];
          const parts = state === 'idle' ? ['begin', ...(setup ? [setup] : [])] : [];
          const name = options?.prepare;
          if (name) {
            if (!NAME.test(name)) throw new Error('invalid prepared statement name');
            let names = preparedOn.get(client);
            if (!names) preparedOn.set(client, (names = new Set()));
            if (!names.has(name)) {
              // Inside the transaction, after SET ROLE: the statement is analysed as the application role.
              parts.push(`prepare ${name} as ${text}`);
              preparing = true;
              names.add(name);
            }
            parts.push(`execute ${name}(${(params ?? []).map(literal).join(', ')})`);
          } else {
            parts.push(params?.length ? inline(text, params) : text);
          }
          if (last) parts.push('commit');
          state = 'open';
          // A newline before each ';' so a statement ending in a -- comment cannot swallow the separator.
          const results = (await client.query(parts.join('\n;\n'))) as unknown as pg.QueryResult | pg.QueryResult[];
          preparing = false;
          if (last) state = 'ended';
          const list = Array.isArray(results) ? results : [results];
          return list[list.length - (last ? 2 : 1)]!.rows as R[];
        },
      };
      const value = await fn(q, ctl);
      if (state === 'open') await client.query(ctl.rollback ? 'rollback' : 'commit');
      return value;
    } catch (err) {
      // After an error inside the batch the transaction is aborted (or, if COMMIT itself failed, gone:
      // ROLLBACK then only warns). A connection that cannot even roll back is discarded. An error
      // thrown by `fn` after a `last` statement committed (a 429 refusal) needs no round trip at all.
      if (state === 'open') await client.query('rollback').catch((e: Error) => (broken = e));
      if (preparing) broken ??= err as Error;
      throw err;
    } finally {
      client.release(broken);
    }
  }
  const pglite = database.pglite!;
  return pglite.transaction(async (tx) => {
    if (setup) await tx.exec(setup);
    const q: Q = { query: async <R>(text: string, params?: unknown[]) => (await tx.query<R>(text, params)).rows };
    const value = await fn(q, ctl);
    if (ctl.rollback) await tx.rollback();
    return value;
  });
}
