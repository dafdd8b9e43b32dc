import { afterAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrateDown, migrateUp } from '../../../scripts/db/migrator.js';
import { pgliteDatabase } from '../../../functions/shared/db/pglite.js';
import type { Database } from '../../../functions/shared/db/database.js';
import { catalogDump, identifiers } from '../../support/catalog.js';
import { createTestDatabase } from '../../support/db.js';

/**
 * The same migration suite on real PostgreSQL and on PGlite: up, down, up gives the same catalog;
 * a second up is a no-op; every down leaves nothing of ours behind.
 */
const engines: [string, () => Promise<Database>][] = [
  ['PostgreSQL', async () => (await createTestDatabase({ migrated: false })).database],
  ['PGlite', () => pgliteDatabase(undefined)],
];

// PGlite (WASM) runs the migrations several times slower than a server: generous per-test time.
describe.each(engines)('migrations on %s', { timeout: 240_000 }, (_engine, open) => {
  let database: Database;
  afterAll(async () => {
    if (database?.kind === 'pglite') await database.close();
  });

  it('up, down, up gives the same catalog; up twice is a no-op', async () => {
    database = await open();
    const client = await database.connect();
    try {
      const migrations = loadMigrations();
      const first = await migrateUp(client, migrations);
      expect(first.applied).toEqual(migrations.map((m) => m.tag));
      const afterUp = await catalogDump(client);
      expect(afterUp.length).toBeGreaterThan(500);

      expect(await migrateUp(client, migrations)).toEqual({ applied: [], skipped: migrations.map((m) => m.tag) });
      expect(await catalogDump(client)).toEqual(afterUp);

      const reverted = await migrateDown(client, Number.POSITIVE_INFINITY, migrations);
      expect(reverted).toEqual(migrations.map((m) => m.tag).reverse());
      const empty = await catalogDump(client);
      expect(empty.filter((l) => !l.startsWith('fn public.') || l.includes('lattice_')), 'left behind by the downs').toEqual([]);

      await migrateUp(client, migrations);
      expect(await catalogDump(client)).toEqual(afterUp);
    } finally {
      await client.release();
    }
  });

  it('each migration steps down and up on its own', async () => {
    const client = await database.connect();
    try {
      const migrations = loadMigrations();
      const full = await catalogDump(client);
      for (let i = 0; i < migrations.length; i++) {
        await migrateDown(client, 1, migrations);
      }
      for (let i = 0; i < migrations.length; i++) {
        const { applied } = await migrateUp(client, migrations.slice(0, i + 1));
        expect(applied).toEqual([migrations[i]!.tag]);
      }
      expect(await catalogDump(client)).toEqual(full);
    } finally {
      await client.release();
    }
  });

  it('no identifier reaches 63 bytes (PostgreSQL would truncate it)', async () => {
    const client = await database.connect();
    try {
      const all = (await identifiers(client)) as unknown as { kind: string; name: string; len: number }[];
      expect(all.length).toBeGreaterThan(500);
      expect(all.filter((i) => i.len >= 63)).toEqual([]);
    } finally {
      await client.release();
    }
  });

  it('refuses to run an applied migration whose file changed', async () => {
    const client = await database.connect();
    try {
      const migrations = loadMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'edited' } : m));
      await expect(migrateUp(client, migrations)).rejects.toThrow(/applied with different contents/);
    } finally {
      await client.release();
    }
  });
});

describe('concurrent migrations on PostgreSQL', () => {
  it('two db:migrate runs at once apply each migration exactly once', async () => {
    const { database } = await createTestDatabase({ migrated: false });
    const [a, b] = [await database.connect(), await database.connect()];
    try {
      const results = await Promise.all([migrateUp(a), migrateUp(b)]);
      const applied = results.flatMap((r) => r.applied).sort();
      expect(applied).toEqual(loadMigrations().map((m) => m.tag).sort());
      const ledger = await a.query<{ n: number }>('select count(*)::int as n from public.lattice_migrations');
      expect(ledger[0]!.n).toBe(loadMigrations().length);
    } finally {
      await a.release();
      await b.release();
    }
  });
});
