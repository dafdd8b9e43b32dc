import type { Config } from '../config.js';
import type { Database } from './database.js';

export type { Database, Db, Tx, Queryable, PoolStats } from './database.js';
export { withTenant, withSystem, type TenantContext } from './tenant.js';
export { databaseProblem, isUniqueViolation, pgErrorOf, PG, type DatabaseProblemOptions, type PgError } from './errors.js';
export { rowsOf } from './rows.js';
export { appRoleSql, systemSql, tenantSql, type Q, type QueryOptions, type SqlTenant, type TxControl } from './round-trip.js';

/** Chooses the driver from configuration: DATABASE_URL → pg, INSTANCE_CONNECTION_NAME → Cloud SQL, else PGlite. */
export async function openDatabase(cfg: Config): Promise<Database> {
  const options = { max: cfg.DB_POOL_MAX, statementTimeoutMs: cfg.DB_STATEMENT_TIMEOUT_MS, appRole: cfg.DB_APP_ROLE };
  if (cfg.DATABASE_URL) {
    const { pgFromUrl } = await import('./pg.js');
    return pgFromUrl(cfg.DATABASE_URL, options);
  }
  if (cfg.INSTANCE_CONNECTION_NAME) {
    const { pgFromCloudSql } = await import('./pg.js');
    return pgFromCloudSql(cfg);
  }
  const { pgliteDatabase } = await import('./pglite.js');
  return pgliteDatabase(cfg.PGLITE_DIR, cfg.DB_APP_ROLE);
}
