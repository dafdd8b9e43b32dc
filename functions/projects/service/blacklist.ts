import { and, eq } from 'drizzle-orm';
import { blacklist } from '../../../drizzle/schema/experiments_v1.js';
import { versions } from '../../../drizzle/schema/projects.js';
import type { Tx } from '../../shared/db/index.js';
import { problems } from '../../shared/http/index.js';
import type { Tenant } from '../../shared/http/index.js';
import { brief, emit } from './events.js';
import { keysetPage } from './paging.js';
import { quarantineVersion } from './quarantine.js';

/**
 * Blacklists a config hash for the org and, in the same transaction, degrades every v2 version
 * carrying it to quarantine (v3), with the blacklist entry as evidence.
 */
export async function addToBlacklist(tx: Tx, t: Tenant, input: { config_hash: string; reason: string }) {
  const [entry] = await tx.insert(blacklist).values({ orgId: t.orgId, configHash: input.config_hash, reason: input.reason, createdBy: t.userId, updatedBy: t.userId }).returning();
  const affected = await tx
    .select()
    .from(versions)
    .where(and(eq(versions.orgId, t.orgId), eq(versions.configHash, input.config_hash), eq(versions.zone, 'v2')))
    .orderBy(versions.id)
    .for('update');
  await emit(tx, {
    type: 'config.blacklisted',
    orgId: t.orgId,
    actorId: t.userId,
    key: [entry!.id],
    data: { blacklist_id: entry!.id, config_hash: input.config_hash, reason: brief(input.reason), quarantined_versions: affected.length },
  });
  const records = [];
  for (const v of affected) {
    records.push(await quarantineVersion(tx, t, { version: v, reason: `blacklisted: ${input.reason}`, evidence: { blacklist_id: entry!.id, config_hash: input.config_hash }, source: 'blacklist' }));
  }
  return { entry: entry!, records };
}

export async function listBlacklist(tx: Tx, t: Tenant, q: { limit: number; cursor?: string | undefined }) {
  return keysetPage(tx, blacklist, q, eq(blacklist.orgId, t.orgId));
}

/** Lifting a ban does not restore quarantined versions: they come back only through re-evaluation. */
export async function removeFromBlacklist(tx: Tx, t: Tenant, id: string): Promise<void> {
  const removed = await tx.delete(blacklist).where(and(eq(blacklist.orgId, t.orgId), eq(blacklist.id, id))).returning({ id: blacklist.id });
  if (!removed.length) throw problems.notFound('blacklist entry');
}
