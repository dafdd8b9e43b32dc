import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { SEAL_LOCK, sealAudit } from '../../../functions/shared/audit/sealer.js';
import { localSigner } from '../../../functions/shared/audit/signer/local.js';
import { OTHER, verifyAuditLog } from '../../../functions/shared/audit/verify.js';
import { drainOutbox } from '../../../functions/shared/events/drain.js';
import { postgresEventSink } from '../../../functions/shared/events/postgres.js';
import { rowsOf } from '../../../functions/shared/db/rows.js';
import { testConfig } from '../../support/app.js';
import { createTestDatabase } from '../../support/db.js';
import { createTenant } from '../../support/tenants.js';
import { asOwnerWithoutTriggers, auditRows, sealEverything, writeProjects } from '../../support/audit.js';

const { database } = await createTestDatabase();
const signer = localSigner(testConfig().LOCAL_KEYRING!);
const seals = async () => rowsOf(await database.db.execute(sql`select seq::int, from_txid::text, to_txid::text, row_count::int, signature, key_id from audits.audit_seal order by seq`));

describe('sealAudit', () => {
  it('seals every finished row into a signed hash chain, and the untouched log verifies', async () => {
    const tenant = await createTenant(database);
    await writeProjects(database, tenant, 6);
    let rows = 0;
    await sealEverything(database, async () => {
      const run = await sealAudit(database, signer, { maxRowsPerSeal: 5 });
      expect(run.skipped).toBe(false);
      rows += run.rows;
    });
    const all = await auditRows(database);
    expect(rows).toBe(all.length);
    // Split by maxRowsPerSeal, never inside a transaction: every seal covers whole transactions.
    const splits = rowsOf(await database.db.execute(sql`select count(*)::int as n from audits.audit_seal s1 join audits.audit_seal s2 on s1.seq <> s2.seq and s1.to_txid >= s2.from_txid and s1.from_txid <= s2.to_txid`));
    expect(splits[0]!.n).toBe(0);
    const chain = await seals();
    expect(chain.map((s) => s.seq)).toEqual(chain.map((_, i) => i + 1));
    expect(chain.at(-1)!.signature).toBeTruthy();
    expect(chain.at(-1)!.key_id).toMatch(/^local:/);
    expect(await verifyAuditLog(database, { signer })).toEqual({ ok: true, checked: all.length, seals: chain.length });
    // The range hashes follow the formula documented in drizzle/schema/audits.ts, computed by PostgreSQL itself.
    const documented = rowsOf(
      await database.db.execute(sql`
        select s.seq, s.range_hash = encode(sha256(convert_to(coalesce((select string_agg(a.row_hash, E'\n' order by a.txid, a.id) from audits.audit_log a where a.txid between s.from_txid and s.to_txid), ''), 'UTF8')), 'hex') as ok
        from audits.audit_seal s`),
    );
    expect(documented.every((r) => r.ok === true)).toBe(true);
    // Idempotent: nothing new, nothing sealed.
    expect(await sealAudit(database, signer)).toMatchObject({ seals: 0, rows: 0, head_seq: chain.length });
  });

  it('never seals past a transaction that is still open, and picks its rows up once it commits', async () => {
    const tenant = await createTenant(database);
    const client = await database.pool!.connect();
    try {
      await client.query('begin');
      await client.query(`insert into projects.projects (org_id, name, slug) values ($1, 'late', 'late-commit')`, [tenant.orgId]);
      const [{ txid }] = (await client.query(`select pg_current_xact_id()::text as txid`)).rows;
      await writeProjects(database, tenant, 2); // later txids, committed first
      await sealAudit(database, signer);
      expect(Number((await seals()).at(-1)!.to_txid)).toBeLessThan(Number(txid));
      await client.query('commit');
      await sealEverything(database, () => sealAudit(database, signer));
      const [late] = rowsOf(await database.db.execute(sql`select count(*)::int as n from audits.audit_seal where ${txid}::bigint between from_txid and to_txid`));
      expect(late!.n).toBe(1);
    } finally {
      client.release();
    }
    expect((await verifyAuditLog(database, { signer })).ok).toBe(true);
  });

  it('runs one at a time: a sealer finding the lock taken is skipped', async () => {
    const tenant = await createTenant(database);
    await writeProjects(database, tenant, 3);
    const holder = await database.pool!.connect();
    try {
      await holder.query('select pg_advisory_lock($1)', [SEAL_LOCK]);
      expect(await sealAudit(database, signer)).toMatchObject({ skipped: true, seals: 0 });
    } finally {
      await holder.query('select pg_advisory_unlock($1)', [SEAL_LOCK]);
      holder.release();
    }
    // Racing sealers never fork the chain.
    await Promise.all([sealAudit(database, signer), sealAudit(database, signer), sealAudit(database, signer)]);
    expect((await verifyAuditLog(database, { signer })).ok).toBe(true);
  });

  it('exports sealed rows to the audit_events stream with their row hash', async () => {
    const tenant = await createTenant(database);
    await writeProjects(database, tenant, 2);
    await sealEverything(database, () => sealAudit(database, signer));
    await drainOutbox(database, postgresEventSink(database));
    const mine = await auditRows(database, tenant.orgId);
    const exported = rowsOf(await database.db.execute(sql`select event_id::text as id, row_hash from analytics.audit_events where org_id = ${tenant.orgId} order by (payload->>'txid')::bigint, event_id`));
    expect(exported).toEqual(mine.map((r) => ({ id: r.id, row_hash: r.row_hash })));
  });

  it('an org-scoped verify checks every row but names only the org\'s own', async () => {
    const a = await createTenant(database);
    const b = await createTenant(database);
    await writeProjects(database, a, 2);
    await writeProjects(database, b, 1);
    await sealEverything(database, () => sealAudit(database, signer));
    const result = await verifyAuditLog(database, { orgId: a.orgId, signer });
    expect(result).toMatchObject({ ok: true, checked: (await auditRows(database)).length });
    const [victim] = await auditRows(database, b.orgId);
    await asOwnerWithoutTriggers(database, [sql`update audits.audit_log set org_id = ${a.orgId} where id = ${victim!.id}`]);
    // Moved into org a: a's verify sees a row of its own that does not hash.
    expect((await verifyAuditLog(database, { orgId: a.orgId, signer })).firstBad).toMatchObject({ id: victim!.id });
    await asOwnerWithoutTriggers(database, [sql`update audits.audit_log set org_id = null where id = ${victim!.id}`]);
    // Moved out of every org: a's verify still fails, without naming another org's row.
    expect((await verifyAuditLog(database, { orgId: a.orgId, signer })).firstBad).toMatchObject({ id: OTHER });
    await asOwnerWithoutTriggers(database, [sql`update audits.audit_log set org_id = ${b.orgId} where id = ${victim!.id}`]);
    expect((await verifyAuditLog(database, { signer })).ok).toBe(true);
  });
});
