import { sql } from 'drizzle-orm';
import { afterAll, expect, it } from 'vitest';
import { loadMigrations, migrateUp } from '../../../scripts/db/migrator.js';
import { sealAudit } from '../../../functions/shared/audit/sealer.js';
import { localSigner } from '../../../functions/shared/audit/signer/local.js';
import { verifyAuditLog } from '../../../functions/shared/audit/verify.js';
import { pgliteDatabase } from '../../../functions/shared/db/pglite.js';
import { withTenant } from '../../../functions/shared/db/tenant.js';
import { drainOutbox } from '../../../functions/shared/events/drain.js';
import { writeOutbox } from '../../../functions/shared/events/outbox.js';
import { postgresEventSink } from '../../../functions/shared/events/postgres.js';
import { rowsOf } from '../../../functions/shared/db/rows.js';
import { testConfig } from '../../support/app.js';
import { createTenant } from '../../support/tenants.js';

/** The embedded mode (npm run dev): the same outbox, sink, sealer and verifier on PGlite. */
const database = await pgliteDatabase(undefined);
afterAll(() => database.close());

it('on PGlite: outbox → analytics sink, seal, verify', { timeout: 120_000 }, async () => {
  const client = await database.connect();
  await migrateUp(client, loadMigrations());
  const tenant = await createTenant(database);
  await withTenant(database, tenant, async (tx) => {
    await tx.execute(sql`insert into projects.projects (org_id, name, slug) values (${tenant.orgId}, 'embedded', 'embedded')`);
    await writeOutbox(tx, { stream: 'domain_events', orgId: tenant.orgId, payload: { type: 'project.created', slug: 'embedded' } });
  });
  const signer = localSigner(testConfig().LOCAL_KEYRING!);
  const sealed = await sealAudit(database, signer);
  expect(sealed.rows).toBeGreaterThan(0);
  const drained = await drainOutbox(database, postgresEventSink(database));
  expect(drained).toMatchObject({ failed: 0, delivered: sealed.exported + 1 });
  const events = rowsOf(await database.db.execute(sql`select action from analytics.audit_events where org_id = ${tenant.orgId} order by action`));
  expect(events.map((e) => e.action)).toContain('project.created');
  expect(await verifyAuditLog(database, { signer })).toMatchObject({ ok: true, seals: sealed.seals });
});
