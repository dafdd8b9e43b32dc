import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlClient } from '../../functions/shared/db/sql-client.js';

/**
 * Applies drizzle-kit's journal in order, each migration with its hand-written `<tag>.down.sql`.
 * A session-level advisory lock makes concurrent deploys wait for each other; applied tags are
 * recorded with a checksum, so running twice is a no-op and an edited applied file is refused.
 */
export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'drizzle', 'migrations');
const LOCK_KEY = 7_243_001; // arbitrary, fixed: "lattice migrate"

export interface Migration {
  tag: string;
  up: string;
  down: string;
  checksum: string;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const journal = JSON.parse(readFileSync(join(dir, 'meta', '_journal.json'), 'utf8')) as { entries: { idx: number; tag: string }[] };
  return [...journal.entries]
    .sort((a, b) => a.idx - b.idx)
    .map(({ tag }) => {
      const up = readFileSync(join(dir, `${tag}.sql`), 'utf8');
      let down: string;
      try {
        down = readFileSync(join(dir, `${tag}.down.sql`), 'utf8');
      } catch {
        throw new Error(`migration ${tag} has no ${tag}.down.sql: every migration needs a down`);
      }
      return { tag, up, down, checksum: createHash('sha256').update(up).digest('hex') };
    });
}

async function ensureLedger(client: SqlClient): Promise<void> {
  await client.exec(
    `create table if not exists public.lattice_migrations (
       tag text primary key,
       checksum text not null,
       applied_at timestamptz not null default now()
     )`,
  );
}

async function withLock<T>(client: SqlClient, fn: () => Promise<T>): Promise<T> {
  await client.query('select pg_advisory_lock($1)', [LOCK_KEY]);
  try {
    return await fn();
  } finally {
    await client.query('select pg_advisory_unlock($1)', [LOCK_KEY]);
  }
}

async function inTransaction(client: SqlClient, fn: () => Promise<void>): Promise<void> {
  await client.exec('begin');
  try {
    await fn();
    await client.exec('commit');
  } catch (err) {
    await client.exec('rollback');
    throw err;
  }
}

export interface MigrateResult {
  applied: string[];
  skipped: string[];
}

export async function migrateUp(client: SqlClient, migrations = loadMigrations()): Promise<MigrateResult> {
  return withLock(client, async () => {
    await ensureLedger(client);
    const done = new Map(
      (await client.query<{ tag: string; checksum: string }>('select tag, checksum from public.lattice_migrations')).map((r) => [r.tag, r.checksum]),
    );
    const result: MigrateResult = { applied: [], skipped: [] };
    for (const m of migrations) {
      const seen = done.get(m.tag);
      if (seen !== undefined) {
        if (seen !== m.checksum) throw new Error(`migration ${m.tag} was applied with different contents; write a new migration instead of editing it`);
        result.skipped.push(m.tag);
        continue;
      }
      await inTransaction(client, async () => {
        await client.exec(m.up);
        await client.query('insert into public.lattice_migrations (tag, checksum) values ($1, $2)', [m.tag, m.checksum]);
      });
      result.applied.push(m.tag);
    }
    return result;
  });
}

/** Rolls back the last `steps` applied migrations (all of them with steps = Infinity). */
export async function migrateDown(client: SqlClient, steps = 1, migrations = loadMigrations()): Promise<string[]> {
  return withLock(client, async () => {
    await ensureLedger(client);
    const applied = new Set((await client.query<{ tag: string }>('select tag from public.lattice_migrations')).map((r) => r.tag));
    const reverted: string[] = [];
    for (const m of [...migrations].reverse()) {
      if (reverted.length >= steps) break;
      if (!applied.has(m.tag)) continue;
      await inTransaction(client, async () => {
        await client.exec(m.down);
        await client.query('delete from public.lattice_migrations where tag = $1', [m.tag]);
      });
      reverted.push(m.tag);
    }
    return reverted;
  });
}
