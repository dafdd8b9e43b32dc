import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { sealAudit } from '../../../functions/shared/audit/sealer.js';
import { kmsSigner } from '../../../functions/shared/audit/signer/kms.js';
import { localSigner } from '../../../functions/shared/audit/signer/local.js';
import { verifySignature } from '../../../functions/shared/audit/signer/port.js';
import { verifyAuditLog } from '../../../functions/shared/audit/verify.js';
import { rowsOf } from '../../../functions/shared/db/rows.js';
import { kmsClientFor, startKmsFake } from '../../fakes/kms.js';
import { testConfig } from '../../support/app.js';
import { createTestDatabase } from '../../support/db.js';
import { createTenant } from '../../support/tenants.js';
import { writeProjects } from '../../support/audit.js';

const { database } = await createTestDatabase();
const kms = await startKmsFake();
afterAll(() => kms.close());

describe('audit Signer adapters', () => {
  it('KMS: seals are signed with asymmetricSign (EC P-256) and verified with getPublicKey', async () => {
    const signer = kmsSigner({ keyVersionName: kms.signingKeyVersionName, client: await kmsClientFor(kms) });
    const tenant = await createTenant(database);
    await writeProjects(database, tenant, 2);
    const stats = await sealAudit(database, signer, { signEvery: 2 });
    expect(stats.signed).toBeGreaterThanOrEqual(1);
    const [head] = rowsOf(await database.db.execute(sql`select seal_hash, signature, key_id from audits.audit_seal order by seq desc limit 1`));
    expect(head!.key_id).toBe(kms.signingKeyVersionName);
    const pem = await signer.publicKeyPem(String(head!.key_id));
    expect(verifySignature(pem, Buffer.from(String(head!.seal_hash)), Buffer.from(String(head!.signature), 'base64'))).toBe(true);
    expect(verifySignature(pem, Buffer.from('something else'), Buffer.from(String(head!.signature), 'base64'))).toBe(false);
    expect(await verifyAuditLog(database, { signer })).toMatchObject({ ok: true });
    expect(kms.calls.asymmetricSign).toBe(stats.signed);
    // The public key is fetched once per key version.
    await verifyAuditLog(database, { signer });
    expect(kms.calls.getPublicKey).toBe(1);
  });

  it('local: deterministic from the keyring, and an unknown key id is refused', async () => {
    const keyring = testConfig().LOCAL_KEYRING!;
    const a = localSigner(keyring);
    const b = localSigner(keyring);
    expect(await a.keyId()).toBe(await b.keyId());
    const { signature, keyId } = await a.sign(Buffer.from('head'));
    expect(verifySignature(await b.publicKeyPem(keyId), Buffer.from('head'), signature)).toBe(true);
    await expect(a.publicKeyPem('local:unknown')).rejects.toThrow(/unknown/);
  });
});
