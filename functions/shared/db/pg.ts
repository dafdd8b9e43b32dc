import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Config } from '../config.js';
import { rootLogger } from '../http/logger.js';
import { type Database, type Db, schema } from './database.js';
import type { SqlClient } from './sql-client.js';

export interface PgOptions {
  max?: number;
  statementTimeoutMs?: number;
  appRole?: string;
  applicationName?: string;
}

/** Pool settings from DESIGN.md §2 "Pool": sized to function concurrency, recycled before Cloud SQL drops them. */
export function poolConfig(options: PgOptions): pg.PoolConfig {
  return {
    max: options.max ?? 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    maxLifetimeSeconds: 1800,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    application_name: options.applicationName ?? 'lattice-lock',
  };
}

export function pgDatabase(pool: pg.Pool, options: PgOptions = {}): Database {
  // An idle client dropped by the server (Cloud SQL maintenance, pg_terminate_backend) emits
  // 'error' on the pool; unhandled, it would crash the instance.
  pool.on('error', (err) => rootLogger.warn('idle database connection lost', { error: err.message }));
  // A checked-out client has no pool listener: its connection dropped mid-transaction (failover,
  // pg_terminate_backend) would emit an unhandled 'error' and crash the instance. The query in
  // flight still fails and the client is discarded on release; this only keeps the process alive.
  pool.on('connect', (client) => {
    client.on('error', (err) => rootLogger.warn('database connection lost', { error: err.message }));
  });
  const db = drizzle(pool, { schema, casing: 'snake_case' }) as unknown as Db;
  return {
    kind: 'pg',
    db,
    pool,
    appRole: options.appRole ?? 'lattice_app',
    stats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: options.max ?? 10 }),
    async ping() {
      const started = performance.now();
      await pool.query('select 1');
      return Math.round((performance.now() - started) * 100) / 100;
    },
    async connect(): Promise<SqlClient> {
      const client = await pool.connect();
      return {
        exec: async (text) => void (await client.query(text)),
        query: async <T>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as T[],
        release: async () => client.release(),
      };
    },
    close: () => pool.end(),
  };
}

export function pgFromUrl(url: string, options: PgOptions = {}): Database {
  return pgDatabase(new pg.Pool({ connectionString: url, ...poolConfig(options) }), options);
}

/** Cloud SQL through the connector: IAM database auth, private IP, no passwords. */
export async function pgFromCloudSql(cfg: Config): Promise<Database> {
  const { Connector, IpAddressTypes, AuthTypes } = await import('@google-cloud/cloud-sql-connector');
  const connector = new Connector();
  const clientOpts = await connector.getOptions({
    instanceConnectionName: cfg.INSTANCE_CONNECTION_NAME!,
    ipType: IpAddressTypes[cfg.DB_IP_TYPE],
    authType: AuthTypes.IAM,
  });
  const options = { max: cfg.DB_POOL_MAX, statementTimeoutMs: cfg.DB_STATEMENT_TIMEOUT_MS, appRole: cfg.DB_APP_ROLE };
  const pool = new pg.Pool({ ...clientOpts, user: cfg.DB_USER, database: cfg.DB_NAME, ...poolConfig(options) });
  const database = pgDatabase(pool, options);
  return {
    ...database,
    close: async () => {
      await database.close();
      connector.close();
    },
  };
}
