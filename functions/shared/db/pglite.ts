import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { drizzle } from 'drizzle-orm/pglite';
import { type Database, type Db, schema } from './database.js';
import type { SqlClient } from './sql-client.js';

/**
 * Embedded PostgreSQL for `npm run dev` and PGlite tests: same SQL, same migrations.
 * One connection only, so its "pool" stats are fixed and concurrency tests use real PostgreSQL.
 * `dataDir` undefined keeps everything in memory.
 */
export async function pgliteDatabase(dataDir?: string, appRole = 'lattice_app'): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir, { extensions: { pg_trgm } });
  const db = drizzle(client, { schema, casing: 'snake_case' }) as unknown as Db;
  const sqlClient: SqlClient = {
    exec: async (text) => void (await client.exec(text)),
    query: async <T>(text: string, params?: unknown[]) => (await client.query<T>(text, params)).rows,
    release: async () => {},
  };
  return {
    kind: 'pglite',
    db,
    pglite: client,
    appRole,
    stats: () => ({ total: 1, idle: 1, waiting: 0, max: 1 }),
    async ping() {
      const started = performance.now();
      await client.query('select 1');
      return Math.round((performance.now() - started) * 100) / 100;
    },
    connect: async () => sqlClient,
    close: () => client.close(),
  };
}
