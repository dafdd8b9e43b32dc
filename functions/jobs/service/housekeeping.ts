import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { rowsOf } from '../../shared/db/rows.js';
import { objectName, type ObjectStore } from '../../shared/storage/index.js';

export const AUDIT_MONTHS_AHEAD = 3;
export const ANALYTICS_DAYS_BACK = 7;
export const ANALYTICS_DAYS_AHEAD = 14;

/** Audit partitions for this month and 3 ahead (never a default partition), analytics partitions by day. */
export async function maintainPartitions(database: Database): Promise<Record<string, unknown>> {
  const one = async (q: ReturnType<typeof sql>) => Number(Object.values(rowsOf(await database.db.execute(q))[0]!)[0]);
  const audit = await one(sql`select audits.ensure_audit_partitions(${AUDIT_MONTHS_AHEAD}) as n`);
  const analytics = await one(sql`select analytics.ensure_partitions(${ANALYTICS_DAYS_BACK}, ${ANALYTICS_DAYS_AHEAD}) as n`);
  const auditPartitions = await one(sql`select count(*) as n from pg_inherits where inhparent = 'audits.audit_log'::regclass`);
  return { audit_partitions_created: audit, analytics_partitions_created: analytics, audit_partitions: auditPartitions, audit_months_ahead: AUDIT_MONTHS_AHEAD };
}

/** Deletes in bounded batches so one cleanup never holds a long transaction or a big lock. */
async function deleteInBatches(database: Database, table: string, where: string, batch = 1000): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await database.db.execute(
      sql.raw(`delete from ${table} where ctid = any(array(select ctid from ${table} where ${where} limit ${batch}))`),
    );
    const n = (result as { rowCount?: number }).rowCount ?? rowsOf(result).length;
    total += n;
    if (n < batch) return total;
  }
}

/** How many object deletions run at once: Cloud Storage handles many, the instance's sockets fewer. */
const DELETE_PARALLELISM = 16;

/**
 * Expired artifacts: each batch deletes the objects first, then the rows, so a row never disappears
 * while its bytes stay behind. Deleting a missing object succeeds, so a run that stopped halfway (an
 * outage, a crash) is finished by the next one; a failed object delete keeps its row for that retry.
 */
async function deleteExpiredArtifacts(database: Database, store: ObjectStore, batch = 500): Promise<{ rows: number; objects: number }> {
  let rows = 0;
  let objects = 0;
  for (;;) {
    const expired = rowsOf(
      await database.db.execute(sql`select id, org_id from production.artifacts where expires_at is not null and expires_at < now() order by expires_at, id limit ${batch}`),
    ) as { id: string; org_id: string }[];
    if (!expired.length) return { rows, objects };
    for (let i = 0; i < expired.length; i += DELETE_PARALLELISM) {
      const deleted = await Promise.all(expired.slice(i, i + DELETE_PARALLELISM).map((a) => store.delete(objectName(a.org_id, a.id))));
      objects += deleted.filter(Boolean).length;
    }
    const ids = expired.map((a) => a.id);
    const result = await database.db.execute(sql`delete from production.artifacts where id = any(${`{${ids.join(',')}}`}::uuid[]) and expires_at < now()`);
    rows += (result as { rowCount?: number }).rowCount ?? 0;
    if (expired.length < batch) return { rows, objects };
  }
}

/**
 * Expired credentials and rows past their retention. Deletes of audited tables leave delete rows in the
 * audit log (no actor: the system did it). Used invitations are kept (they record who joined how).
 */
export async function cleanup(database: Database, { store }: { store: ObjectStore }): Promise<Record<string, unknown>> {
  const artifacts = await deleteExpiredArtifacts(database, store);
  return {
    password_resets: await deleteInBatches(database, 'auth.password_resets', `expires_at < now()`),
    invitations: await deleteInBatches(database, 'auth.invitations', `expires_at < now() and used_at is null`),
    artifacts: artifacts.rows,
    artifact_objects: artifacts.objects,
    sessions: await deleteInBatches(database, 'auth.sessions', `expires_at < now()`),
    rate_limits: await deleteInBatches(database, 'ops.rate_limits', `window_start < now() - interval '1 day'`),
    delivered_outbox: await deleteInBatches(database, 'ops.outbox', `delivered_at < now() - interval '7 days'`),
    provider_health_checks: await deleteInBatches(database, 'providers.provider_health_checks', `checked_at < now() - interval '30 days'`),
  };
}
