import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { projects } from '../drizzle/schema/projects.js';
import { loadConfig } from '../functions/shared/config.js';
import { withSystem, withTenant } from '../functions/shared/db/tenant.js';
import { writeOutbox } from '../functions/shared/events/outbox.js';
import { createBenchDatabase } from './lib/database.js';
import { createBenchTenant } from './lib/fixtures.js';
import { runLoad } from './lib/load.js';
import { isMain } from './lib/main.js';
import { rate, ratio } from './lib/stats.js';
import { printTable, section, x } from './lib/table.js';

/**
 * What the audit trail and the outbox cost a business write: inserts per second of a project created
 * through withTenant (RLS, audit trigger computing row_hash, one outbox event in the same transaction)
 * against the bare insert of the same row into a copy of the table without triggers, at 1 and 32
 * clients. If audit writers serialised (a chained "last hash" row, a table lock), the ratio at 32
 * clients would collapse far below the one at 1; lock waits seen in pg_locks are counted too.
 */
const CLIENTS = [1, 32];
const LOAD = (c: number) => ({ concurrency: c, total: Math.max(400, c * 80), maxMs: 6_000, warmup: Math.min(c * 2, 40) });

export async function main(): Promise<void> {
  const bench = await createBenchDatabase({ poolMax: 40 });
  try {
    const { database } = bench;
    const tenant = await createBenchTenant(database, loadConfig({ NODE_ENV: 'test' }));
    await database.pool!.query(`create table public.bench_bare_projects (like projects.projects including defaults including constraints including indexes)`);
    const slug = () => `b-${randomBytes(6).toString('hex')}`;

    const bare = () =>
      withSystem(database, async (tx) => {
        const s = slug();
        await tx.execute(sql`insert into public.bench_bare_projects (org_id, name, slug) values (${tenant.orgId}, ${s}, ${s})`);
      });
    const audited = (i: number) =>
      withTenant(database, tenant, async (tx) => {
        const s = slug();
        await tx.insert(projects).values({ orgId: tenant.orgId, name: s, slug: s });
        await writeOutbox(tx, { stream: 'domain_events', orgId: tenant.orgId, payload: { type: 'project.created', slug: s, i } });
      });

    section('Audit and outbox write cost');
    const rows: (string | number)[][] = [];
    for (const clients of CLIENTS) {
      let waits = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const { rows: r } = await database.pool!.query(`select count(*)::int as n from pg_locks where not granted and database = (select oid from pg_database where datname = current_database())`);
          waits += r[0].n;
          await new Promise((res) => setTimeout(res, 20));
        }
      })();
      const base = await runLoad(LOAD(clients), bare);
      const full = await runLoad(LOAD(clients), audited);
      sampling = false;
      await sampler;
      const baseRate = rate(base.completed, base.elapsedMs);
      const fullRate = rate(full.completed, full.elapsedMs);
      rows.push([clients, Math.round(baseRate), Math.round(fullRate), x(ratio(fullRate, baseRate)), base.errors + full.errors, waits]);
    }
    const [one, many] = rows;
    printTable(
      'Inserts per second: bare insert vs insert + audit row (row_hash trigger) + outbox event, one transaction each',
      ['clients', 'bare/s', 'audited+outbox/s', 'ratio', 'errors', 'lock waits seen'],
      rows,
      [
        `Scaling 1 → 32 clients: bare ${x(ratio(Number(many![1]), Number(one![1])))}, audited ${x(ratio(Number(many![2]), Number(one![2])))} — similar scaling means the audit path does not serialise writers.`,
        'Lock waits: samples of pg_locks with granted = false in the benchmark database every 20 ms.',
      ],
    );
  } finally {
    await bench.drop();
  }
}

if (isMain(import.meta.url)) await main();
