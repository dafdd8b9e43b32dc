import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../support/db.js';

/**
 * SECURITY DEFINER functions run as their owner: a name they leave unqualified must not resolve to an
 * object the caller planted. PostgreSQL searches the session's temporary schema first for types and
 * tables unless pg_temp is named (last) in the function's search_path (CREATE FUNCTION docs, "Writing
 * SECURITY DEFINER Functions Safely"); the application role has TEMP, so without that a domain in
 * pg_temp ran the caller's code as the owner (migration 0011).
 */
const { database } = await createTestDatabase();
afterAll(async () => {
  await database.close();
});

describe('SECURITY DEFINER functions', () => {
  it('every one pins a search_path that ends with pg_temp', async () => {
    const { rows } = await database.pool!.query<{ fn: string; config: string[] | null }>(`
      SELECT p.oid::regprocedure::text AS fn, p.proconfig AS config
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')`);
    expect(rows.map((r) => r.fn).sort()).toEqual(expect.arrayContaining(['providers.settle_batch(jsonb)']));
    const unsafe = rows.filter((r) => !(r.config ?? []).some((c) => /^search_path=pg_catalog, .*pg_temp$/.test(c)));
    expect(unsafe).toEqual([]);
  });

  it("the application role's temporary domain does not capture settle_batch's types (code runs as the caller, not the owner)", async () => {
    const client = await database.pool!.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL ROLE lattice_app');
      await client.query(`CREATE FUNCTION pg_temp.planted(d pg_catalog.date) RETURNS boolean LANGUAGE sql AS
        $$ SELECT pg_catalog.set_config('test.planted_ran_as', current_user, true) IS NOT NULL $$`);
      await client.query('CREATE DOMAIN pg_temp.date AS pg_catalog.date CHECK (pg_temp.planted(VALUE))');
      // The planted domain is live for the caller's own statements...
      await client.query(`SELECT '2026-12-03'::pg_temp.date`);
      expect((await client.query(`SELECT current_setting('test.planted_ran_as', true) AS who`)).rows[0].who).toBe('lattice_app');
      await client.query(`SELECT pg_catalog.set_config('test.planted_ran_as', '', true)`);
      // ...but settle_batch's unqualified `date` resolves to pg_catalog's.
      await client.query(`SELECT * FROM providers.settle_batch('[{"request_id":"no-such-request","day":"2026-12-03"}]'::jsonb)`);
      expect((await client.query(`SELECT current_setting('test.planted_ran_as', true) AS who`)).rows[0].who).toBe('');
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});
