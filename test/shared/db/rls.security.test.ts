import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { projects } from '../../../drizzle/schema/projects.js';
import { withSystem, withTenant } from '../../../functions/shared/db/tenant.js';
import { pgErrorOf } from '../../../functions/shared/db/errors.js';
import { createTestDatabase } from '../../support/db.js';
import { createTenant, type TestTenant } from '../../support/tenants.js';

/** Row-level security as the application role: a query that forgets its org filter still sees one tenant. */
const { database } = await createTestDatabase();
let a: TestTenant;
let b: TestTenant;
let projectA: string;
let projectB: string;
let versionB: string;

beforeAll(async () => {
  a = await createTenant(database, { role: 'admin' });
  b = await createTenant(database, { role: 'admin' });
  projectA = (await withTenant(database, a, (tx) => tx.insert(projects).values({ orgId: a.orgId, name: 'A', slug: 'a' }).returning()))[0]!.id;
  projectB = (await withTenant(database, b, (tx) => tx.insert(projects).values({ orgId: b.orgId, name: 'B', slug: 'b' }).returning()))[0]!.id;
  versionB = (
    await database.pool!.query(
      `insert into projects.versions (org_id, project_id, version_number, config, config_hash, zone) values ($1, $2, 1, '{"k":1}', $3, 'v3') returning id`,
      [b.orgId, projectB, 'b'.repeat(64)],
    )
  ).rows[0].id;
  await database.pool!.query(
    `insert into quarantine.quarantine_records (org_id, project_id, version_id, config_hash, config, reason, source) values ($1, $2, $3, $4, '{}', 'bad', 'manual')`,
    [b.orgId, projectB, versionB, 'b'.repeat(64)],
  );
});

/** The database's own message, under drizzle's wrapper. */
const dbError = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (err) => pgErrorOf(err)?.message ?? String(err),
  );

describe('row-level security for the application role', () => {
  it('an unscoped select returns only the tenant\'s rows', async () => {
    const rows = await withTenant(database, a, (tx) => tx.select({ id: projects.id, orgId: projects.orgId }).from(projects));
    expect(rows).toEqual([{ id: projectA, orgId: a.orgId }]);
  });

  it('runs as the non-owner role with the tenant settings', async () => {
    const [row] = await withTenant(database, a, (tx) =>
      tx.execute(sql`select current_user as role, current_setting('app.org_id') as org, current_setting('app.user_id') as usr`).then((r: any) => r.rows),
    );
    expect(row).toEqual({ role: 'lattice_app', org: a.orgId, usr: a.userId });
  });

  it('cannot insert a row for another organization', async () => {
    expect(await dbError(withTenant(database, a, (tx) => tx.insert(projects).values({ orgId: b.orgId, name: 'x', slug: 'x' })))).toMatch(/row-level security/);
  });

  it('cannot update or delete another organization\'s rows (they are invisible)', async () => {
    const updated = await withTenant(database, a, (tx) => tx.update(projects).set({ name: 'pwned' }).where(sql`${projects.id} = ${projectB}`).returning());
    const deleted = await withTenant(database, a, (tx) => tx.delete(projects).where(sql`${projects.id} = ${projectB}`).returning());
    expect(updated).toEqual([]);
    expect(deleted).toEqual([]);
    const [still] = await withSystem(database, (tx) => tx.select().from(projects).where(sql`${projects.id} = ${projectB}`));
    expect(still!.name).toBe('B');
  });

  it('without a tenant setting the application role sees nothing', async () => {
    const rows = await database.db.transaction(async (tx) => {
      await tx.execute(sql`set local role lattice_app`);
      return tx.select().from(projects);
    });
    expect(rows).toEqual([]);
  });

  it('cannot change audit rows: no privilege, and the table refuses even its owner', async () => {
    expect(await dbError(withTenant(database, a, (tx) => tx.execute(sql`update audits.audit_log set action = 'delete'`)))).toMatch(/permission denied for table audit_log/);
    expect(await dbError(withTenant(database, a, (tx) => tx.execute(sql`delete from audits.audit_log`)))).toMatch(/permission denied for table audit_log/);
    await expect(database.pool!.query(`update audits.audit_log set action = 'delete'`)).rejects.toThrow(/audits\.audit_log.* is append-only: UPDATE refused/);
    await expect(database.pool!.query(`delete from audits.audit_log`)).rejects.toThrow(/append-only: DELETE refused/);
    await expect(database.pool!.query(`truncate audits.audit_log`)).rejects.toThrow(/append-only: TRUNCATE refused/);
  });

  it('cannot change quarantine records, not even the owner', async () => {
    expect(await dbError(withTenant(database, b, (tx) => tx.execute(sql`update quarantine.quarantine_records set reason = 'fine'`)))).toMatch(/permission denied|append-only/);
    await expect(database.pool!.query(`update quarantine.quarantine_records set reason = 'fine'`)).rejects.toThrow(/quarantine\.quarantine_records is append-only: UPDATE refused/);
    await expect(database.pool!.query(`delete from quarantine.quarantine_records`)).rejects.toThrow(/append-only: DELETE refused/);
  });

  it('reads only its own organization\'s audit rows', async () => {
    const orgs = await withTenant(database, a, (tx) => tx.execute(sql`select distinct org_id from audits.audit_log`).then((r: any) => r.rows.map((x: any) => x.org_id)));
    expect(orgs).toEqual([a.orgId]);
  });
});
