import { describe, expect, it } from 'vitest';
import { pgFromUrl } from '../../../functions/shared/db/pg.js';
import { periodsAt, reserve } from '../../../functions/providers/service/quota.js';
import { inline, literal, tenantSql } from '../../../functions/shared/db/round-trip.js';
import { createTestDatabase } from '../../support/db.js';
import { createTenant } from '../../support/tenants.js';

/**
 * The hot path's one-round-trip batches inline parameters as literals and reuse server-side prepared
 * statements across tenants on one pooled connection: hostile text must arrive verbatim, and a
 * statement prepared under one tenant must still be filtered by row-level security for the next.
 */
const { database, url } = await createTestDatabase();

const HOSTILE = [
  "'; drop table providers.quota_counters; --",
  "\\'; select 1; --",
  'back\\slash \\x00 \\\\ e\'scape',
  '$1 $2 $$ $tag$ dollar',
  '"quoted" -- comment /* block */',
  'unicode ünïcödé 🚀 \u2028',
];

describe('inlined literals', () => {
  it('every hostile string reaches PostgreSQL verbatim, in and out of a prepared statement', async () => {
    const t = await createTenant(database, { role: 'member' });
    for (const [i, s] of HOSTILE.entries()) {
      const plain = await tenantSql(database, t, (q) => q.query<{ v: string; n: number }>('SELECT $1::text AS v, $2::int AS n', [s, i], { last: true }));
      expect(plain).toEqual([{ v: s, n: i }]);
      const prepared = await tenantSql(database, t, (q) => q.query<{ v: string }>('SELECT $1::text AS v', [s], { last: true, prepare: 'llc_test_echo' }));
      expect(prepared).toEqual([{ v: s }]);
    }
    expect((await database.pool!.query(`SELECT to_regclass('providers.quota_counters') IS NOT NULL AS ok`)).rows[0].ok).toBe(true);
  });

  it('refuses what it cannot represent instead of guessing', () => {
    expect(() => literal('nul \0 byte')).toThrow(/NUL/);
    expect(() => literal(Number.NaN)).toThrow();
    expect(() => inline('SELECT $2', ['only one'])).toThrow(/\$2/);
    expect(inline("SELECT '$1', $1 -- $1\n", ['x'])).toBe("SELECT '$1', E'x' -- $1\n");
  });
});

describe('prepared statements across tenants on one connection', () => {
  it('row-level security still scopes a statement prepared under another tenant', async () => {
    const single = pgFromUrl(url, { max: 1, applicationName: 'lattice-sql-batch' });
    try {
      const a = await createTenant(database, { role: 'member' });
      const b = await createTenant(database, { role: 'member' });
      const periods = periodsAt(new Date());
      // Counters exist for A only after a reservation.
      await reserve(single, a, periods, { requestId: `sql-batch-${a.userId}`, tokens: 10, costMicros: 0, ttlSeconds: 60 });
      const count = (tenant: { orgId: string; userId: string }) => tenantSql(single, tenant, (q) =>
        q.query<{ n: string }>('SELECT count(*) AS n FROM providers.quota_counters WHERE org_id = $1::uuid', [a.orgId], { last: true, prepare: 'llc_test_count' }));
      // Enough executions for PostgreSQL to switch to a cached generic plan.
      for (let i = 0; i < 7; i++) expect(Number((await count(a))[0]!.n)).toBe(4);
      for (let i = 0; i < 7; i++) expect(Number((await count(b))[0]!.n)).toBe(0);
      expect(Number((await count(a))[0]!.n)).toBe(4);
    } finally {
      await single.close();
    }
  });
});
