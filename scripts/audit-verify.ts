/**
 * `npm run audit:verify [-- --org <uuid>]`: recomputes every audit row hash, the seal chain and its
 * signatures against the configured database (DATABASE_URL / INSTANCE_CONNECTION_NAME / PGlite) and
 * signer (KMS_SIGNING_KEY_VERSION or the local keyring). Prints a JSON report; exit code 0 when the
 * log verifies, 1 when it names a bad row or seal, 2 when the check itself could not run.
 */
import { openSigner } from '../functions/shared/audit/signer/index.js';
import { verifyAuditLog } from '../functions/shared/audit/verify.js';
import { loadConfig } from '../functions/shared/config.js';
import { openDatabase } from '../functions/shared/db/index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function main(argv: string[]): Promise<number> {
  const at = argv.indexOf('--org');
  const orgId = at >= 0 ? argv[at + 1] : undefined;
  if (at >= 0 && (!orgId || !UUID.test(orgId))) {
    process.stderr.write('usage: npm run audit:verify [-- --org <organization uuid>]\n');
    return 2;
  }
  const cfg = loadConfig();
  const database = await openDatabase(cfg);
  try {
    const started = performance.now();
    const result = await verifyAuditLog(database, { ...(orgId ? { orgId } : {}), signer: openSigner(cfg) });
    process.stdout.write(`${JSON.stringify({ ...result, ...(orgId ? { org_id: orgId } : {}), duration_ms: Math.round(performance.now() - started) }, null, 2)}\n`);
    return result.ok ? 0 : 1;
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`audit:verify could not run: ${err.message}\n`);
    process.exit(2);
  },
);
