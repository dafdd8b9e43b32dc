import { and, eq, inArray, notInArray } from 'drizzle-orm';
import { baselines, projectPolicies, projects, rollbackCheckpoints, versions, type BaselineOperator, type ValidationStatus, type VersionZone } from '../../../drizzle/schema/projects.js';
import type { Tx } from '../../shared/db/index.js';
import { problems } from '../../shared/http/index.js';
import { projectsErrors } from '../errors.js';
import type { Tenant } from '../../shared/http/index.js';
import { brief, emit } from './events.js';
import { keysetPage } from './paging.js';
import { refreshStatus, requireProject, type ProjectRow } from './projects.js';
import { recordZoneChange } from './versions.js';

/** What a checkpoint holds (jsonb, snake_case like the API); `format` lets it evolve. */
export interface Snapshot {
  format: 1;
  project: {
    name: string;
    slug: string;
    description: string | null;
    schema_status: ValidationStatus;
    sheriff_status: ValidationStatus;
    gauntlet_status: ValidationStatus;
    last_validated_at: string | null;
  };
  versions: { id: string; version_number: number; zone: VersionZone; config: Record<string, unknown>; config_hash: string; notes: string | null; created_at: string; created_by: string | null }[];
  baselines: { id: string; metric: string; operator: BaselineOperator; threshold: number }[];
  policy_ids: string[];
}

export async function takeSnapshot(tx: Tx, project: ProjectRow): Promise<Snapshot> {
  // Sequential on purpose: one transaction is one connection.
  const vs = await tx.select().from(versions).where(eq(versions.projectId, project.id)).orderBy(versions.versionNumber);
  const bs = await tx.select().from(baselines).where(eq(baselines.projectId, project.id)).orderBy(baselines.metric, baselines.operator);
  const links = await tx.select({ policyId: projectPolicies.policyId }).from(projectPolicies).where(eq(projectPolicies.projectId, project.id)).orderBy(projectPolicies.policyId);
  return {
    format: 1,
    project: {
      name: project.name,
      slug: project.slug,
      description: project.description,
      schema_status: project.schemaStatus,
      sheriff_status: project.sheriffStatus,
      gauntlet_status: project.gauntletStatus,
      last_validated_at: project.lastValidatedAt?.toISOString() ?? null,
    },
    versions: vs.map((v) => ({ id: v.id, version_number: v.versionNumber, zone: v.zone, config: v.config, config_hash: v.configHash, notes: v.notes, created_at: v.createdAt.toISOString(), created_by: v.createdBy })),
    baselines: bs.map((b) => ({ id: b.id, metric: b.metric, operator: b.operator, threshold: b.threshold })),
    policy_ids: links.map((l) => l.policyId),
  };
}

export async function createCheckpoint(tx: Tx, t: Tenant, input: { projectId: string; reason: string | null }) {
  const { projectId, reason } = input;
  // The lock makes the snapshot consistent with concurrent version creation and rollbacks.
  const project = await requireProject(tx, t, { projectId, lock: true });
  const snapshot = await takeSnapshot(tx, project);
  const [row] = await tx
    .insert(rollbackCheckpoints)
    .values({ orgId: t.orgId, projectId, snapshot: snapshot as unknown as Record<string, unknown>, reason, createdBy: t.userId, updatedBy: t.userId })
    .returning();
  return row!;
}

export async function requireCheckpoint(tx: Tx, t: Tenant, input: { projectId: string; checkpointId: string }) {
  const [row] = await tx
    .select()
    .from(rollbackCheckpoints)
    .where(and(eq(rollbackCheckpoints.orgId, t.orgId), eq(rollbackCheckpoints.projectId, input.projectId), eq(rollbackCheckpoints.id, input.checkpointId)));
  if (!row) throw problems.notFound('checkpoint');
  return row;
}

export async function listCheckpoints(tx: Tx, t: Tenant, input: { projectId: string; limit: number; cursor?: string | undefined }) {
  const { projectId } = input;
  await requireProject(tx, t, { projectId });
  return keysetPage(tx, rollbackCheckpoints, input, eq(rollbackCheckpoints.orgId, t.orgId), eq(rollbackCheckpoints.projectId, projectId));
}

/**
 * Restores the project, its versions, baselines and policy links to the checkpoint, in the caller's
 * single transaction. Before touching anything it checkpoints the current state ("undo"), so every
 * rollback leaves an audited row and can itself be rolled back. Versions created after the
 * checkpoint are deleted (a quarantined one cannot be: its record is immutable → 409); every zone
 * the rollback changes gets a version_history row.
 */
export async function rollback(tx: Tx, t: Tenant, input: { projectId: string; checkpointId: string; reason: string | null }) {
  const { projectId, reason } = input;
  const project = await requireProject(tx, t, { projectId, lock: true });
  const checkpoint = await requireCheckpoint(tx, t, { projectId, checkpointId: input.checkpointId });
  const snap = checkpoint.snapshot as unknown as Snapshot;
  if (snap.format !== 1) throw projectsErrors.illegalTransition('the checkpoint has an unknown format');
  const why = `rollback to checkpoint ${checkpoint.id}${reason ? `: ${reason}` : ''}`;

  const undo = await tx
    .insert(rollbackCheckpoints)
    .values({ orgId: t.orgId, projectId, snapshot: (await takeSnapshot(tx, project)) as unknown as Record<string, unknown>, reason: `before ${why}`, createdBy: t.userId, updatedBy: t.userId })
    .returning({ id: rollbackCheckpoints.id });

  // Versions: delete the newer ones first, so re-created ones can take back their numbers.
  const keepIds = snap.versions.map((v) => v.id);
  const dropped = await tx.delete(versions).where(and(eq(versions.projectId, projectId), keepIds.length ? notInArray(versions.id, keepIds) : undefined)).returning({ id: versions.id });
  const current = keepIds.length ? await tx.select().from(versions).where(and(eq(versions.projectId, projectId), inArray(versions.id, keepIds))) : [];
  for (const v of snap.versions) {
    const now = current.find((c) => c.id === v.id);
    if (!now) {
      const [row] = await tx
        .insert(versions)
        .values({ id: v.id, orgId: t.orgId, projectId, versionNumber: v.version_number, zone: v.zone, config: v.config, configHash: v.config_hash, notes: v.notes, createdAt: new Date(v.created_at), createdBy: v.created_by, updatedBy: t.userId })
        .returning();
      await recordZoneChange(tx, t, { version: row!, from: null, to: v.zone, reason: why });
      continue;
    }
    if (now.zone === v.zone && now.notes === v.notes && now.configHash === v.config_hash) continue;
    const [row] = await tx
      .update(versions)
      .set({ zone: v.zone, notes: v.notes, config: v.config, configHash: v.config_hash, updatedBy: t.userId, version: now.version + 1 })
      .where(eq(versions.id, v.id))
      .returning();
    if (now.zone !== v.zone) await recordZoneChange(tx, t, { version: row!, from: now.zone, to: v.zone, reason: why });
  }

  // Baselines: the checkpoint's set, by id.
  const baselineIds = snap.baselines.map((b) => b.id);
  await tx.delete(baselines).where(and(eq(baselines.projectId, projectId), baselineIds.length ? notInArray(baselines.id, baselineIds) : undefined));
  for (const b of snap.baselines) {
    await tx
      .insert(baselines)
      .values({ id: b.id, orgId: t.orgId, projectId, metric: b.metric, operator: b.operator, threshold: b.threshold, createdBy: t.userId, updatedBy: t.userId })
      .onConflictDoUpdate({ target: baselines.id, set: { metric: b.metric, operator: b.operator, threshold: b.threshold, updatedBy: t.userId } });
  }

  // Policy links.
  await tx.delete(projectPolicies).where(and(eq(projectPolicies.projectId, projectId), snap.policy_ids.length ? notInArray(projectPolicies.policyId, snap.policy_ids) : undefined));
  if (snap.policy_ids.length) {
    await tx
      .insert(projectPolicies)
      .values(snap.policy_ids.map((policyId) => ({ orgId: t.orgId, projectId, policyId, createdBy: t.userId, updatedBy: t.userId })))
      .onConflictDoNothing();
  }

  const s = snap.project;
  const [renamed] = await tx
    .update(projects)
    .set({ name: s.name, slug: s.slug, description: s.description, updatedBy: t.userId })
    .where(eq(projects.id, projectId))
    .returning();
  const restored = await refreshStatus(tx, t, {
    project: renamed!,
    changes: { schemaStatus: s.schema_status, sheriffStatus: s.sheriff_status, gauntletStatus: s.gauntlet_status, lastValidatedAt: s.last_validated_at ? new Date(s.last_validated_at) : null },
  });
  await emit(tx, {
    type: 'checkpoint.rolled_back',
    orgId: t.orgId,
    actorId: t.userId,
    key: [undo[0]!.id],
    data: { project_id: projectId, checkpoint_id: checkpoint.id, undo_checkpoint_id: undo[0]!.id, versions_deleted: dropped.length, reason: brief(reason) },
  });
  return { project: restored, checkpoint, undoCheckpointId: undo[0]!.id };
}
