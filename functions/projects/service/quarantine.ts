import { and, eq, sql } from 'drizzle-orm';
import { quarantineRecords, reevaluationRequests, type QuarantineSource } from '../../../drizzle/schema/quarantine.js';
import type { Tx } from '../../shared/db/index.js';
import { problems } from '../../shared/http/index.js';
import type { Tenant } from '../../shared/http/index.js';
import { projectsErrors, mapDbError } from '../errors.js';
import { brief, emit } from './events.js';
import { keysetPage } from './paging.js';
import { requireProject } from './projects.js';
import { illegal, reevaluationMoves } from './transitions.js';
import { createVersion, moveZone, requireVersion, type VersionRow } from './versions.js';

export type QuarantineRecordRow = typeof quarantineRecords.$inferSelect;

/**
 * Degrades a version to v3: zone change with its history row, and the immutable quarantine record
 * (a copy of the config, the reason, the evidence), all in the caller's transaction.
 */
export async function quarantineVersion(
  tx: Tx,
  t: Tenant,
  input: { version: VersionRow; reason: string; evidence?: Record<string, unknown>; source: QuarantineSource },
): Promise<QuarantineRecordRow> {
  const { version } = input;
  if (version.zone === 'v3') throw projectsErrors.wrongZone(`version ${version.versionNumber} is already quarantined`);
  const moved = await moveZone(tx, t, { version, to: 'v3', reason: `quarantined (${input.source}): ${input.reason}` });
  const [record] = await tx
    .insert(quarantineRecords)
    .values({
      orgId: t.orgId,
      projectId: moved.projectId,
      versionId: moved.id,
      configHash: moved.configHash,
      config: moved.config,
      reason: input.reason,
      evidence: { ...input.evidence, from_zone: version.zone },
      source: input.source,
      createdBy: t.userId,
    })
    .returning();
  await emit(tx, {
    type: 'quarantine.recorded',
    orgId: t.orgId,
    actorId: t.userId,
    key: [record!.id],
    data: { record_id: record!.id, project_id: record!.projectId, version_id: record!.versionId, config_hash: record!.configHash, source: input.source, from_zone: version.zone, reason: brief(input.reason) },
  });
  return record!;
}

export async function quarantineById(tx: Tx, t: Tenant, input: { projectId: string; versionId: string; reason: string; evidence?: Record<string, unknown> | undefined }) {
  const version = await requireVersion(tx, t, { versionId: input.versionId, projectId: input.projectId, lock: true });
  return quarantineVersion(tx, t, { version, reason: input.reason, evidence: input.evidence ?? {}, source: 'manual' });
}

export async function requireRecord(tx: Tx, t: Tenant, id: string): Promise<QuarantineRecordRow> {
  const [row] = await tx.select().from(quarantineRecords).where(and(eq(quarantineRecords.orgId, t.orgId), eq(quarantineRecords.id, id)));
  if (!row) throw problems.notFound('quarantine record');
  await requireProject(tx, t, { projectId: row.projectId });
  return row;
}

export async function listRecords(tx: Tx, t: Tenant, q: { limit: number; cursor?: string | undefined; project_id?: string | undefined }) {
  return keysetPage(tx, quarantineRecords, q, eq(quarantineRecords.orgId, t.orgId), q.project_id ? eq(quarantineRecords.projectId, q.project_id) : undefined);
}

/**
 * Records are read-only. The attempt is made for real, inside a savepoint, so the answer comes from
 * the database's own guard: the application role has no UPDATE/DELETE grant (42501), and the owner
 * meets the immutability trigger (P0001 "append-only"); both become 409 and nothing changes.
 */
export async function attemptRecordChange(
  tx: Tx,
  t: Tenant,
  input: { recordId: string; change: { kind: 'update'; reason?: string | undefined; evidence?: Record<string, unknown> | undefined } | { kind: 'delete' } },
): Promise<never> {
  const { recordId: id, change } = input;
  await requireRecord(tx, t, id);
  try {
    await tx.transaction(async (sp) => {
      if (change.kind === 'delete') await sp.delete(quarantineRecords).where(eq(quarantineRecords.id, id));
      else await sp.update(quarantineRecords).set({ ...(change.reason ? { reason: change.reason } : {}), ...(change.evidence ? { evidence: change.evidence } : {}) }).where(eq(quarantineRecords.id, id));
    });
  } catch (err) {
    const mapped = mapDbError(err);
    if (mapped !== err) throw mapped;
    if ((err as { cause?: { code?: string } }).cause?.code === '42501' || (err as { code?: string }).code === '42501') {
      throw projectsErrors.readOnly('quarantine records are read-only: request a re-evaluation instead');
    }
    throw err;
  }
  throw projectsErrors.readOnly('quarantine records are read-only');
}

export async function quarantineStats(tx: Tx, t: Tenant) {
  const rows = await tx.execute(sql`select total_records::int as total_records, pending_requests::int as pending_requests, approved_requests::int as approved_requests, rejected_requests::int as rejected_requests, last_quarantined_at from quarantine.quarantine_stats where org_id = ${t.orgId}`);
  const list = (Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows) as { total_records: number; pending_requests: number; approved_requests: number; rejected_requests: number; last_quarantined_at: Date | string | null }[];
  const r = list[0];
  const last = r?.last_quarantined_at ? new Date(r.last_quarantined_at).toISOString() : null;
  return { total_records: r?.total_records ?? 0, pending_requests: r?.pending_requests ?? 0, approved_requests: r?.approved_requests ?? 0, rejected_requests: r?.rejected_requests ?? 0, last_quarantined_at: last };
}

export async function requestReevaluation(tx: Tx, t: Tenant, input: { recordId: string; reason: string }) {
  const { recordId, reason } = input;
  await requireRecord(tx, t, recordId);
  const [row] = await tx.insert(reevaluationRequests).values({ orgId: t.orgId, recordId, reason, requestedBy: t.userId, createdBy: t.userId, updatedBy: t.userId }).returning();
  return row!;
}

export async function requireReevaluation(tx: Tx, t: Tenant, id: string) {
  const [row] = await tx.select().from(reevaluationRequests).where(and(eq(reevaluationRequests.orgId, t.orgId), eq(reevaluationRequests.id, id)));
  if (!row) throw problems.notFound('re-evaluation request');
  const record = await requireRecord(tx, t, row.recordId);
  return { request: row, record };
}

export async function listReevaluations(tx: Tx, t: Tenant, q: { recordId: string; limit: number; cursor?: string | undefined }) {
  const { recordId } = q;
  await requireRecord(tx, t, recordId);
  return keysetPage(tx, reevaluationRequests, q, eq(reevaluationRequests.orgId, t.orgId), eq(reevaluationRequests.recordId, recordId));
}

/**
 * pending → approved | rejected, conditionally in SQL. Approval creates a new v1 version from the
 * quarantined config (the record itself never changes), linked from the request.
 */
export async function decideReevaluation(tx: Tx, t: Tenant, input: { requestId: string; to: 'approved' | 'rejected'; reason: string | null }) {
  const { requestId: id, to, reason } = input;
  const { request, record } = await requireReevaluation(tx, t, id);
  // Four eyes, as for promotions: approving brings quarantined config back, so not on one's own request
  // (withdrawing it by rejecting is the requester's right).
  if (to === 'approved' && request.requestedBy === t.userId) throw projectsErrors.selfApproval('the requester of a re-evaluation cannot approve it');
  const [decided] = await tx
    .update(reevaluationRequests)
    .set({ status: to, decidedBy: t.userId, decidedAt: new Date(), decisionReason: reason, updatedBy: t.userId, version: sql`${reevaluationRequests.version} + 1` })
    .where(and(eq(reevaluationRequests.id, id), eq(reevaluationRequests.status, 'pending')))
    .returning();
  if (!decided || !reevaluationMoves[to].includes(request.status)) throw illegal('the re-evaluation request', request.status, to);
  const decidedEvent = (newVersionId: string | null) =>
    emit(tx, {
      type: 'reevaluation.decided',
      orgId: t.orgId,
      actorId: t.userId,
      key: [decided.id],
      data: { request_id: decided.id, record_id: record.id, project_id: record.projectId, from: request.status, to, new_version_id: newVersionId, reason: brief(reason) },
    });
  if (to === 'rejected') {
    await decidedEvent(null);
    return { request: decided, version: null };
  }
  const version = await createVersion(tx, t, {
    projectId: record.projectId,
    config: record.config,
    notes: `re-evaluation of quarantined version ${record.versionId}`,
    zone: 'v1',
    reason: `re-evaluation ${id} of quarantine record ${record.id} approved`,
  });
  const [linked] = await tx.update(reevaluationRequests).set({ newVersionId: version.id }).where(eq(reevaluationRequests.id, id)).returning();
  await decidedEvent(version.id);
  return { request: linked!, version };
}
