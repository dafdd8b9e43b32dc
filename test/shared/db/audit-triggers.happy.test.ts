import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { projects } from '../../../drizzle/schema/projects.js';
import { withTenant } from '../../../functions/shared/db/tenant.js';
import { createTestDatabase } from '../../support/db.js';
import { createTenant } from '../../support/tenants.js';

const { database } = await createTestDatabase();

async function auditRows(rowId: string) {
  const { rows } = await database.pool!.query(
    `select action, actor_id, org_id, table_schema, table_name, old_data, new_data, row_hash from audits.audit_log where row_id = $1 order by occurred_at, txid`,
    [rowId],
  );
  return rows;
}

describe('audit triggers on domain tables', () => {
  it('append one row per insert, update and delete, with the actor and the org', async () => {
    const t = await createTenant(database, { role: 'member' });
    const [p] = await withTenant(database, t, (tx) => tx.insert(projects).values({ orgId: t.orgId, name: 'Audited', slug: 'audited' }).returning());
    await withTenant(database, t, (tx) => tx.update(projects).set({ name: 'Renamed' }).where(eq(projects.id, p!.id)));
    await withTenant(database, t, (tx) => tx.delete(projects).where(eq(projects.id, p!.id)));

    const rows = await auditRows(p!.id);
    expect(rows.map((r) => r.action)).toEqual(['insert', 'update', 'delete']);
    for (const r of rows) {
      expect(r).toMatchObject({ actor_id: t.userId, org_id: t.orgId, table_schema: 'projects', table_name: 'projects' });
      expect(r.row_hash).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(rows[0].old_data).toBeNull();
    expect(rows[0].new_data.name).toBe('Audited');
    expect(rows[1].old_data.name).toBe('Audited');
    expect(rows[1].new_data.name).toBe('Renamed');
    expect(rows[2].new_data).toBeNull();
  });

  it('never copies password hashes or encrypted secrets, and skips updates of excluded columns only', async () => {
    const t = await createTenant(database, { role: 'member' });
    await database.pool!.query(`update auth.users set failed_attempts = failed_attempts + 1 where id = $1`, [t.userId]);
    await database.pool!.query(`update auth.users set name = 'Renamed', password_hash = 'new-hash' where id = $1`, [t.userId]);
    const rows = await auditRows(t.userId);
    expect(rows.map((r) => r.action)).toEqual(['insert', 'update']);
    expect(JSON.stringify(rows)).not.toMatch(/password_hash|new-hash|totp_secret/);
  });

  it('keeps updated_at honest', async () => {
    const t = await createTenant(database);
    const [p] = await withTenant(database, t, (tx) => tx.insert(projects).values({ orgId: t.orgId, name: 'T', slug: 't' }).returning());
    await withTenant(database, t, (tx) => tx.update(projects).set({ updatedAt: new Date('2000-01-01') }).where(eq(projects.id, p!.id)));
    const [after] = await withTenant(database, t, (tx) => tx.select().from(projects).where(eq(projects.id, p!.id)));
    expect(after!.updatedAt.getFullYear()).toBeGreaterThan(2020);
  });

  it('writes audit rows into a monthly partition, current month plus three ahead', async () => {
    const { rows } = await database.pool!.query(
      `select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'audits.audit_log'::regclass order by 1`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(4);
    expect(rows.map((r) => r.relname).every((n: string) => /^audit_log_y\d{4}m\d{2}$/.test(n))).toBe(true);
    const def = await database.pool!.query(`select count(*)::int as n from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'audits.audit_log'::regclass and pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'`);
    expect(def.rows[0].n).toBe(0);
    void sql;
  });
});
