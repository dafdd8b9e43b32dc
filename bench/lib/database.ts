import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadMigrations, migrateUp, type Migration } from '../../drizzle/migrator.js';
import type { Database } from '../../functions/shared/db/database.js';
import { pgFromUrl } from '../../functions/shared/db/pg.js';

/**
 * A real PostgreSQL database created for one benchmark run (migrated like production, plus the
 * work-in-progress drizzle/pending files the tests also apply) and dropped afterwards.
 */
export const SERVER_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function urlFor(database: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

function pendingMigrations(): Migration[] {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'drizzle', 'pending');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.up.sql'))
    .sort()
    .map((f) => {
      const up = readFileSync(join(dir, f), 'utf8');
      const downFile = join(dir, f.replace(/\.up\.sql$/, '.down.sql'));
      return { tag: `pending_${f.replace(/\.up\.sql$/, '')}`, up, down: existsSync(downFile) ? readFileSync(downFile, 'utf8') : '', checksum: createHash('sha256').update(up).digest('hex') };
    });
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
      await migrateUp(client, [...loadMigrations(), ...pendingMigrations()]);
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
