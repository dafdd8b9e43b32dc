import { spawn } from 'node:child_process';
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { sealAudit } from '../../../functions/shared/audit/sealer.js';
import { localSigner } from '../../../functions/shared/audit/signer/local.js';
import { testConfig } from '../../support/app.js';
import { createTestDatabase } from '../../support/db.js';
import { createTenant } from '../../support/tenants.js';
import { asOwnerWithoutTriggers, auditRows, sealEverything, writeProjects } from '../../support/audit.js';

const { database, url } = await createTestDatabase();

function auditVerify(args: string[] = []): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts', ...args], {
      env: { ...process.env, DATABASE_URL: url, NODE_ENV: 'test', LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

it('npm run audit:verify: exit 0 on an untouched log, 1 naming the row after tampering', { timeout: 60_000 }, async () => {
  const tenant = await createTenant(database);
  await writeProjects(database, tenant, 2);
  await sealEverything(database, () => sealAudit(database, localSigner(testConfig().LOCAL_KEYRING!)));
  const clean = await auditVerify();
  expect(clean.code, clean.out).toBe(0);
  // Under load the sealer may close the range in more than one seal (it stops at the cluster's oldest open
  // transaction), so the verifier must report exactly the seals that exist, not a fixed number.
  const [{ n: sealCount }] = (await database.pool!.query(`select count(*)::int as n from audits.audit_seal`)).rows;
  expect(sealCount).toBeGreaterThanOrEqual(1);
  expect(JSON.parse(clean.out)).toMatchObject({ ok: true, seals: sealCount });

  const victim = (await auditRows(database, tenant.orgId))[1]!;
  await asOwnerWithoutTriggers(database, [sql`update audits.audit_log set org_id = null where id = ${victim.id}`]);
  const tampered = await auditVerify(['--org', tenant.orgId]);
  expect(tampered.code).toBe(1);
  expect(JSON.parse(tampered.out)).toMatchObject({ ok: false, org_id: tenant.orgId, firstBad: { id: 'outside-organization' } });
  const all = await auditVerify();
  expect(JSON.parse(all.out).firstBad).toMatchObject({ id: victim.id });
  expect((await auditVerify(['--org', 'nope'])).code).toBe(2);
});
