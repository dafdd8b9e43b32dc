import pg from 'pg';
import { expect, it } from 'vitest';
import { writeOutbox } from '../../../functions/shared/events/outbox.js';
import { withTenant } from '../../../functions/shared/db/tenant.js';
import { projects } from '../../../drizzle/schema/projects.js';
import { createTestDatabase } from '../../support/db.js';
import { createTenant } from '../../support/tenants.js';

const WRITERS = 32;
const PER_WRITER = 15;
const { database, url } = await createTestDatabase({ poolMax: WRITERS + 2 });

/**
 * Writers must not serialise on the audit log: row_hash is computed per row at insert, with no chain
 * pointer to read and lock. pg_locks is sampled while 32 writers run; no lock request in this database
 * may be waiting (granted = false), which a "last hash" row or a table lock would show at once.
 */
it('32 concurrent writers append audit and outbox rows without waiting on a lock', { timeout: 60_000 }, async () => {
  const tenants = await Promise.all(Array.from({ length: 4 }, () => createTenant(database)));
  const monitor = new pg.Client({ connectionString: url });
  await monitor.connect();
  const [{ oid }] = (await monitor.query(`select oid from pg_database where datname = current_database()`)).rows;
  const waits: unknown[] = [];
  let samples = 0;
  let busySamples = 0;
  let running = true;
  const sampler = (async () => {
    while (running) {
      const { rows } = await monitor.query(
        // Waiters among this database's backends (transactionid locks carry no database, so filter by backend).
        `select l.locktype, l.mode, l.relation::regclass::text as relation, a.query
         from pg_locks l join pg_stat_activity a on a.pid = l.pid
         where not l.granted and a.datid = $1 and l.pid <> pg_backend_pid()
           -- relation extension locks are physical (a heap growing a page under any concurrent insert), not a queue of writers
           and l.locktype <> 'extend'`,
        [oid],
      );
      const { rows: active } = await monitor.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and state <> 'idle' and pid <> pg_backend_pid()`);
      samples++;
      if (active[0].n >= 2) busySamples++;
      waits.push(...rows);
    }
  })();

  let written = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      const tenant = tenants[w % tenants.length]!;
      for (let i = 0; i < PER_WRITER; i++) {
        await withTenant(database, tenant, async (tx) => {
          const slug = `w${w}-i${i}-${tenant.orgId.slice(0, 8)}`;
          await tx.insert(projects).values({ orgId: tenant.orgId, name: slug, slug });
          await writeOutbox(tx, { stream: 'domain_events', orgId: tenant.orgId, payload: { type: 'project.created', slug } });
        });
        written++;
      }
    }),
  );
  running = false;
  await sampler;
  await monitor.end();

  expect(written).toBe(WRITERS * PER_WRITER);
  const { rows } = await database.pool!.query(`select count(*)::int as n from audits.audit_log where table_name = 'projects' and action = 'insert'`);
  expect(rows[0].n).toBeGreaterThanOrEqual(WRITERS * PER_WRITER);
  expect(samples).toBeGreaterThan(5);
  expect(busySamples).toBeGreaterThan(0); // the sampler really watched concurrent writers
  expect(waits).toEqual([]);
});
