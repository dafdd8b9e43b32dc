import { and, eq, max, sql } from 'drizzle-orm';
import { versionHistory, versions, type VersionZone } from '../../../drizzle/schema/projects.js';
import type { Tx } from '../../shared/db/index.js';
import { problems } from '../../shared/http/index.js';
import { projectsErrors } from '../errors.js';
import type { Tenant } from '../../shared/http/index.js';
import { configHash } from './canonical.js';
import { brief, emit } from './events.js';
import { updateVersioned } from './locking.js';
import { keysetPage } from './paging.js';
import { requireProject } from './projects.js';

export type VersionRow = typeof versions.$inferSelect;

/**
 * A new version of a project's config, numbered max + 1 under the project row lock (so two creates
 * never race for a number), with its history starting at "created in <zone>".
 */
export async function createVersion(
  tx: Tx,
  t: Tenant,
  input: { projectId: string; config: Record<string, unknown>; notes?: string | null | undefined; zone?: VersionZone; reason?: string },
): Promise<VersionRow> {
  const { projectId } = input;
  await requireProject(tx, t, { projectId, lock: true });
  const [last] = await tx.select({ n: max(versions.versionNumber) }).from(versions).where(eq(versions.projectId, projectId));
  const zone = input.zone ?? 'v1';
  const [row] = await tx
    .insert(versions)
    .values({
      orgId: t.orgId,
      projectId,
      versionNumber: (last?.n ?? 0) + 1,
      zone,
      config: input.config,
      configHash: configHash(input.config),
      notes: input.notes ?? null,
      createdBy: t.userId,
      updatedBy: t.userId,
    })
    .returning();
  await recordZoneChange(tx, t, { version: row!, from: null, to: zone, reason: input.reason ?? 'created' });
  await emit(tx, { type: 'version.created', orgId: t.orgId, actorId: t.userId, key: [row!.id], data: { project_id: projectId, version_id: row!.id, version_number: row!.versionNumber, zone } });
  return row!;
}

/**
 * The history row of a zone change and, for a move between zones (not a version entering its first
 * zone: that is version.created), its version.zone_changed event. `v` is the row after the change,
 * so its optimistic version counter names this transition.
 */
export async function recordZoneChange(tx: Tx, t: Tenant, input: { version: VersionRow; from: VersionZone | null; to: VersionZone; reason: string | null }): Promise<void> {
  const { version: v, from, to, reason } = input;
  await tx.insert(versionHistory).values({ orgId: v.orgId, projectId: v.projectId, versionId: v.id, fromZone: from, toZone: to, reason, actorId: t.userId });
  if (from === null || from === to) return;
  await emit(tx, {
    type: 'version.zone_changed',
    orgId: v.orgId,
    actorId: t.userId,
    key: [v.id, v.version, to],
    data: { project_id: v.projectId, version_id: v.id, version_number: v.versionNumber, from, to, reason: brief(reason) },
  });
}

/**
 * Moves a version between zones and writes its history row, in the caller's transaction. The
 * update is conditional on the zone the caller saw, so a concurrent move makes this one fail (409).
 */
export async function moveZone(tx: Tx, t: Tenant, input: { version: VersionRow; to: VersionZone; reason: string }): Promise<VersionRow> {
  const { version: v, to, reason } = input;
  const [row] = await tx
    .update(versions)
    .set({ zone: to, updatedBy: t.userId, version: sql`${versions.version} + 1` })
    .where(and(eq(versions.id, v.id), eq(versions.zone, v.zone)))
    .returning();
  if (!row) throw projectsErrors.illegalTransition(`version ${v.versionNumber} changed zone concurrently`);
  await recordZoneChange(tx, t, { version: row, from: v.zone, to, reason });
  return row;
}

/** A version of a live project of the caller's org (404 otherwise); `lock` for zone changes. */
export async function requireVersion(tx: Tx, t: Tenant, input: { versionId: string; projectId?: string; lock?: boolean }): Promise<VersionRow> {
  const q = tx
    .select()
    .from(versions)
    .where(and(eq(versions.orgId, t.orgId), eq(versions.id, input.versionId), input.projectId ? eq(versions.projectId, input.projectId) : undefined));
  const [row] = input.lock ? await q.for('update') : await q;
  if (!row) throw problems.notFound('version');
  await requireProject(tx, t, { projectId: row.projectId });
  return row;
}

export async function listVersions(tx: Tx, t: Tenant, q: { projectId: string; limit: number; cursor?: string | undefined; zone?: VersionZone | undefined }) {
  const { projectId } = q;
  await requireProject(tx, t, { projectId });
  return keysetPage(tx, versions, q, eq(versions.orgId, t.orgId), eq(versions.projectId, projectId), q.zone ? eq(versions.zone, q.zone) : undefined);
}

export async function updateVersionNotes(tx: Tx, t: Tenant, input: { projectId: string; versionId: string; expectedVersion: number; notes: string | null }): Promise<VersionRow> {
  const { projectId, versionId } = input;
  await requireProject(tx, t, { projectId });
  return updateVersioned(tx, versions, and(eq(versions.orgId, t.orgId), eq(versions.projectId, projectId), eq(versions.id, versionId)), input.expectedVersion, { notes: input.notes, updatedBy: t.userId }, 'version');
}

export async function listHistory(tx: Tx, t: Tenant, q: { projectId: string; limit: number; cursor?: string | undefined; version_id?: string | undefined }) {
  const { projectId } = q;
  await requireProject(tx, t, { projectId });
  return keysetPage(tx, versionHistory, q, eq(versionHistory.orgId, t.orgId), eq(versionHistory.projectId, projectId), q.version_id ? eq(versionHistory.versionId, q.version_id) : undefined);
}
