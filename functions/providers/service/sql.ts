import type { Database } from '../../shared/db/index.js';

/**
 * Raw SQL for the gateway's hot path: one pooled connection, hand-written statements, as few round
 * trips as possible. Tenant transactions still run as the application role with app.org_id set, so
 * row-level security applies here exactly as in withTenant; BEGIN and the three set_config calls go
 * in one simple-protocol round trip (values are validated uuids / the configured role name, never
 * free text), the statements themselves are parameterised.
 */
export interface Q {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
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

/** Owner-role transaction: only for lookups before the tenant is known and for scheduler jobs. */
export async function systemSql<T>(database: Database, fn: (q: Q, ctl: TxControl) => Promise<T>): Promise<T> {
  return run(database, undefined, fn);
}

async function run<T>(database: Database, setup: string | undefined, fn: (q: Q, ctl: TxControl) => Promise<T>): Promise<T> {
  const ctl: TxControl = { rollback: false };
  if (database.pool) {
    const client = await database.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(setup ? `begin; ${setup}` : 'begin');
      const q: Q = { query: async <R>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as R[] };
      const value = await fn(q, ctl);
      await client.query(ctl.rollback ? 'rollback' : 'commit');
      return value;
    } catch (err) {
      await client.query('rollback').catch((e: Error) => (broken = e));
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
