import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadMigrations, migrateUp } from '../../scripts/db/migrator.js';
import type { Database } from '../../functions/shared/db/database.js';
import { pgFromUrl } from '../../functions/shared/db/pg.js';

/**
 * A real PostgreSQL database created for one benchmark run (migrated like production) and dropped
 * afterwards.
 */
export const SERVER_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function urlFor(database: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

export interface BenchDatabase {
  name: string;
  url: string;
  database: Database;
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: urlFor('postgres') });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`PostgreSQL is not answering at ${SERVER_URL} (${(err as Error).message}); set BENCH_DATABASE_URL or start it (pg_ctlcluster 15 main start)`);
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createBenchDatabase(options: { poolMax?: number } = {}): Promise<BenchDatabase> {
  const name = `lattice_bench_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = urlFor(name);
  try {
    const migrator = pgFromUrl(url, { max: 1 });
    const client = await migrator.connect();
    try {
      await migrateUp(client, loadMigrations());
    } finally {
      await client.release();
      await migrator.close();
    }
  } catch (err) {
    await admin((c) => c.query(`drop database if exists ${name} with (force)`));
    throw err;
  }
  const database = pgFromUrl(url, { max: options.poolMax ?? 10, applicationName: 'lattice-bench' });
  return {
    name,
    url,
    database,
    async drop() {
      await database.close().catch(() => {});
      await admin((c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/**
 * PostgreSQL backends serving the benchmark database for anyone but the harness itself (its own pool
 * is application_name 'lattice-bench'): the gateway processes' connections, whatever name they give.
 */
export async function gatewayBackendPids(bench: BenchDatabase): Promise<number[]> {
  const { rows } = await bench.database.pool!.query(
    `select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and application_name is distinct from 'lattice-bench' and backend_type = 'client backend'`,
  );
  return rows.map((r: { pid: number }) => r.pid);
}
