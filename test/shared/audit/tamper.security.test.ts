import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { sealAudit } from '../../../functions/shared/audit/sealer.js';
import { localSigner } from '../../../functions/shared/audit/signer/local.js';
import { verifyAuditLog } from '../../../functions/shared/audit/verify.js';
import { drainOutbox } from '../../../functions/shared/events/drain.js';
import { postgresEventSink } from '../../../functions/shared/events/postgres.js';
import { rowsOf } from '../../../functions/shared/db/rows.js';
import { testConfig } from '../../support/app.js';
import { createTestDatabase } from '../../support/db.js';
import { createTenant } from '../../support/tenants.js';
import { asOwnerWithoutTriggers, auditRows, sealEverything, writeProjects } from '../../support/audit.js';

const { database } = await createTestDatabase();
const signer = localSigner(testConfig().LOCAL_KEYRING!);
let rows: Awaited<ReturnType<typeof auditRows>>;
let unsealed: string | undefined;

beforeAll(async () => {
  const tenant = await createTenant(database);
  await writeProjects(database, tenant, 5);
  await sealEverything(database, () => sealAudit(database, signer, { maxRowsPerSeal: 4 }));
  await drainOutbox(database, postgresEventSink(database));
  [unsealed] = await writeProjects(database, tenant, 1); // its rows stay after the last seal
  rows = await auditRows(database);
  expect((await verifyAuditLog(database, { signer })).ok).toBe(true);
});

/** Each case tampers, checks what verify names, then restores the row and checks the log verifies again. */
describe('audit verify names the tampered row', () => {
  it('a payload edited behind the triggers', async () => {
    const victim = rows[3]!;
    await asOwnerWithoutTriggers(database, [sql`update audits.audit_log set new_data = jsonb_set(new_data, '{name}', '"forged"') where id = ${victim.id}`]);
    const result = await verifyAuditLog(database, { signer });
    expect(result.ok).toBe(false);
    expect(result.firstBad).toEqual({ id: victim.id, reason: expect.stringMatching(/row_hash mismatch/) });
    await asOwnerWithoutTriggers(database, [sql`update audits.audit_log set new_data = ${victim.new_data}::jsonb where id = ${victim.id}`]);
    expect((await verifyAuditLog(database, { signer })).ok).toBe(true);
  });

  it('a payload edited with its row hash recomputed', async () => {
    const victim = rows[2]!;
    await asOwnerWithoutTriggers(database, [
      sql`update audits.audit_log set new_data = jsonb_set(new_data, '{name}', '"forged"') where id = ${victim.id}`,
      sql`update audits.audit_log set row_hash = encode(sha256(convert_to(concat_ws('|', id::text, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), txid::text, coalesce(org_id::text, ''), coalesce(actor_id::text, ''), action, table_schema, table_name, coalesce(row_id, ''), coalesce(old_data::text, ''), coalesce(new_data::text, '')), 'UTF8')), 'hex') where id = ${victim.id}`,
    ]);
    const result = await verifyAuditLog(database, { signer });
    expect(result.firstBad).toEqual({ id: victim.id, reason: expect.stringMatching(/rewritten after sealing/) });
    await asOwnerWithoutTriggers(database, [sql`update audits.audit_log set new_data = ${victim.new_data}::jsonb, row_hash = ${victim.row_hash} where id = ${victim.id}`]);
    expect((await verifyAuditLog(database, { signer })).ok).toBe(true);
  });

  it('a deleted row', async () => {
    const victim = rows[5]!;
    const [saved] = rowsOf(await database.db.execute(sql`select * from audits.audit_log where id = ${victim.id}`));
    await asOwnerWithoutTriggers(database, [sql`delete from audits.audit_log where id = ${victim.id}`]);
    const result = await verifyAuditLog(database, { signer });
    expect(result.firstBad).toEqual({ id: victim.id, reason: expect.stringMatching(/deleted after sealing/) });
    await asOwnerWithoutTriggers(database, [sql`insert into audits.audit_log select * from jsonb_populate_record(null::audits.audit_log, ${JSON.stringify(saved)}::jsonb)`]);
    expect((await verifyAuditLog(database, { signer })).ok).toBe(true);
  });

  it('two rows reordered (their txids swapped)', async () => {
    const [a, b] = [rows[0]!, rows.find((r) => r.txid !== rows[0]!.txid)!];
    await asOwnerWithoutTriggers(database, [
      sql`update audits.audit_log set txid = ${b.txid}::bigint where id = ${a.id}`,
      sql`update audits.audit_log set txid = ${a.txid}::bigint where id = ${b.id}`,
    ]);
    const result = await verifyAuditLog(database, { signer });
    expect(result.ok).toBe(false);
    expect([a.id, b.id]).toContain(result.firstBad!.id);
    expect(result.firstBad!.reason).toMatch(/row_hash mismatch/);
    await asOwnerWithoutTriggers(database, [
      sql`update audits.audit_log set txid = ${a.txid}::bigint where id = ${a.id}`,
      sql`update audits.audit_log set txid = ${b.txid}::bigint where id = ${b.id}`,
    ]);
    expect((await verifyAuditLog(database, { signer })).ok).toBe(true);
  });

  it('a row edited after the last seal', async () => {
    const victim = (await auditRows(database)).find((r) => r.new_data?.includes(unsealed!) || r.old_data?.includes(unsealed!))!;
    await asOwnerWithoutTriggers(database, [sql`update audits.audit_log set actor_id = null where id = ${victim.id}`]);
    const result = await verifyAuditLog(database, { signer });
    expect(result.firstBad).toEqual({ id: victim.id, reason: expect.stringMatching(/not sealed yet/) });
    await asOwnerWithoutTriggers(database, [sql`update audits.audit_log set actor_id = (${victim.new_data}::jsonb->>'updated_by')::uuid where id = ${victim.id}`]);
  });

  it('a forged seal signature', async () => {
    const [head] = rowsOf(await database.db.execute(sql`select seq, signature from audits.audit_seal order by seq desc limit 1`));
    const forged = Buffer.from(String(head!.signature), 'base64');
    forged.writeUInt8(forged.readUInt8(forged.length - 1) ^ 1, forged.length - 1);
    await asOwnerWithoutTriggers(database, [sql`update audits.audit_seal set signature = ${forged.toString('base64')} where seq = ${head!.seq}`]);
    expect((await verifyAuditLog(database, { signer })).firstBad).toEqual({ id: `seal:${head!.seq}`, reason: 'signature does not verify' });
    await asOwnerWithoutTriggers(database, [sql`update audits.audit_seal set signature = ${head!.signature} where seq = ${head!.seq}`]);
  });
});
