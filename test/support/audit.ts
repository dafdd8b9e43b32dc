import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { projects } from '../../drizzle/schema/projects.js';
import type { Database } from '../../functions/shared/db/database.js';
import { withTenant } from '../../functions/shared/db/tenant.js';
import { rowsOf } from '../../functions/shared/db/rows.js';

/** Domain writes whose audit trigger appends audit rows (insert, then update). */
export async function writeProjects(database: Database, tenant: { orgId: string; userId: string }, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const slug = `p-${randomBytes(5).toString('hex')}`;
    const id = await withTenant(database, tenant, async (tx) => {
      const [p] = await tx.insert(projects).values({ orgId: tenant.orgId, name: `Project ${slug}`, slug }).returning({ id: projects.id });
      await tx.update(projects).set({ description: `about ${slug}` }).where(sql`id = ${p!.id}`);
      return p!.id;
    });
    ids.push(id);
  }
  return ids;
}

export async function auditRows(database: Database, orgId?: string) {
  return rowsOf(
    await database.db.execute(
      sql`select a.id::text, a.txid::text, a.org_id::text, a.row_hash, a.old_data::text, a.new_data::text from audits.audit_log a ${orgId ? sql`where a.org_id = ${orgId}` : sql``} order by a.txid, a.id`,
    ),
  ) as { id: string; txid: string; org_id: string | null; row_hash: string; old_data: string | null; new_data: string | null }[];
}

/** As the table owner with every trigger off: what an attacker with database access can do. */
export async function asOwnerWithoutTriggers(database: Database, statements: ReturnType<typeof sql>[]): Promise<void> {
  await database.db.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`);
    for (const s of statements) await tx.execute(s);
  });
}

/**
 * Seals until every audit row is covered. The seal horizon is the cluster's oldest running transaction,
 * so a transaction open in another test database can hold a run back for a moment.
 */
export async function sealEverything(database: Database, seal: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await seal();
    const [row] = rowsOf(
      await database.db.execute(
        sql`select count(*)::int as n from audits.audit_log a where not exists (select 1 from audits.audit_seal s where a.txid between s.from_txid and s.to_txid)`,
      ),
    );
    if (Number(row!.n) === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('audit rows stayed unsealed for 10 s: a transaction is held open somewhere in the cluster');
}
