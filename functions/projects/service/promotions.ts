import { and, eq } from 'drizzle-orm';
import { blacklist, promotions, type PromotionStatus } from '../../../drizzle/schema/experiments_v1.js';
import type { Tx } from '../../shared/db/index.js';
import { problems } from '../../shared/http/index.js';
import type { Tenant } from '../../shared/http/index.js';
import { projectsErrors } from '../errors.js';
import { checkBaselines } from './baseline-check.js';
import { projectBaselines } from './baselines.js';
import { brief, emit } from './events.js';
import { effectiveVerdict, latestEvaluation, requireEvaluation } from './experiments.js';
import { keysetPage } from './paging.js';
import { requireProject } from './projects.js';
import { illegal, promotionMoves } from './transitions.js';
import { moveZone, requireVersion } from './versions.js';

export type PromotionRow = typeof promotions.$inferSelect;

export async function requirePromotion(tx: Tx, t: Tenant, id: string): Promise<PromotionRow> {
  const [row] = await tx.select().from(promotions).where(and(eq(promotions.orgId, t.orgId), eq(promotions.id, id)));
  if (!row) throw problems.notFound('promotion');
  await requireProject(tx, t, { projectId: row.projectId });
  return row;
}

export async function isBlacklisted(tx: Tx, t: Tenant, hash: string): Promise<typeof blacklist.$inferSelect | undefined> {
  const [row] = await tx.select().from(blacklist).where(and(eq(blacklist.orgId, t.orgId), eq(blacklist.configHash, hash)));
  return row;
}

/** v1 → v2 request, backed by a passing evaluation of that version (an override counts). */
export async function requestPromotion(tx: Tx, t: Tenant, input: { version_id: string; evaluation_id: string; reason: string }) {
  const version = await requireVersion(tx, t, { versionId: input.version_id });
  if (version.zone !== 'v1') throw projectsErrors.wrongZone(`only v1 versions can be promoted; version ${version.versionNumber} is in ${version.zone}`);
  const evaluation = await requireEvaluation(tx, t, input.evaluation_id);
  if (evaluation.versionId !== version.id) throw projectsErrors.evaluationMismatch('the evaluation is not of this version');
  if (effectiveVerdict(evaluation) !== 'pass') throw projectsErrors.illegalTransition(`the evaluation's verdict is ${effectiveVerdict(evaluation)}, not pass`);
  const [row] = await tx
    .insert(promotions)
    .values({ orgId: t.orgId, projectId: version.projectId, versionId: version.id, evaluationId: evaluation.id, reason: input.reason, requestedBy: t.userId, createdBy: t.userId, updatedBy: t.userId })
    .returning();
  await emit(tx, {
    type: 'promotion.requested',
    orgId: t.orgId,
    actorId: t.userId,
    key: [row!.id],
    data: { promotion_id: row!.id, project_id: row!.projectId, version_id: row!.versionId, evaluation_id: row!.evaluationId, reason: brief(row!.reason) },
  });
  return row!;
}

/** Approve or reject: an admin other than the requester (four eyes), from `requested` only. */
export async function decidePromotion(tx: Tx, t: Tenant, input: { promotionId: string; to: 'approved' | 'rejected'; reason: string | null }) {
  const { promotionId: id, to, reason } = input;
  const current = await requirePromotion(tx, t, id);
  if (current.requestedBy === t.userId) throw projectsErrors.selfApproval('the requester of a promotion cannot decide it');
  const [row] = await tx
    .update(promotions)
    .set({ status: to, decidedBy: t.userId, decidedAt: new Date(), decisionReason: reason, updatedBy: t.userId, version: current.version + 1 })
    .where(and(eq(promotions.id, id), eq(promotions.status, 'requested')))
    .returning();
  if (!row || !promotionMoves[to].includes(current.status)) throw illegal('the promotion', current.status, to);
  await emit(tx, {
    type: to === 'approved' ? 'promotion.approved' : 'promotion.rejected',
    orgId: t.orgId,
    actorId: t.userId,
    key: [row.id],
    data: { promotion_id: row.id, project_id: row.projectId, version_id: row.versionId, from: current.status, to, reason: brief(reason) },
  });
  return row;
}

/**
 * approved → applied, in one transaction: the status flip comes first and is conditional, so of two
 * concurrent applies the second finds no `approved` row and answers 409; then the version must still
 * be in v1, its config hash must not be blacklisted, and the latest evaluation must meet every
 * baseline. Any refusal throws, rolling the flip back: the promotion stays approved.
 */
export async function applyPromotion(tx: Tx, t: Tenant, id: string) {
  const current = await requirePromotion(tx, t, id);
  const [applied] = await tx
    .update(promotions)
    .set({ status: 'applied', appliedAt: new Date(), appliedBy: t.userId, updatedBy: t.userId, version: current.version + 1 })
    .where(and(eq(promotions.id, id), eq(promotions.status, 'approved')))
    .returning();
  if (!applied) {
    const [now] = await tx.select({ status: promotions.status }).from(promotions).where(eq(promotions.id, id));
    throw illegal('the promotion', now?.status ?? current.status, 'applied');
  }
  // Written with the flip: a refusal below rolls both back, so the event exists iff the apply committed.
  await emit(tx, {
    type: 'promotion.applied',
    orgId: t.orgId,
    actorId: t.userId,
    key: [applied.id],
    data: { promotion_id: applied.id, project_id: applied.projectId, version_id: applied.versionId, evaluation_id: applied.evaluationId, from: 'approved', to: 'applied' },
  });
  const version = await requireVersion(tx, t, { versionId: applied.versionId, lock: true });
  if (version.zone !== 'v1') throw projectsErrors.wrongZone(`version ${version.versionNumber} is in ${version.zone}, not v1`);
  const banned = await isBlacklisted(tx, t, version.configHash);
  if (banned) throw projectsErrors.blacklisted(`the config hash is blacklisted: ${banned.reason}`, { config_hash: version.configHash });
  const evaluation = await latestEvaluation(tx, t, version.id);
  if (!evaluation) throw projectsErrors.baselinesFailed('the version has no evaluation to check against the baselines');
  const check = checkBaselines(await projectBaselines(tx, t, version.projectId), evaluation.metrics);
  if (!check.passed) throw projectsErrors.baselinesFailed('the latest evaluation does not meet the baselines', { results: check.results, evaluation_id: evaluation.id });
  const moved = await moveZone(tx, t, { version, to: 'v2', reason: `promotion ${applied.id}: ${applied.reason}` });
  return { promotion: applied, version: moved, baselines: check };
}

export async function listPromotions(tx: Tx, t: Tenant, q: { limit: number; cursor?: string | undefined; status?: PromotionStatus | undefined; project_id?: string | undefined }) {
  return keysetPage(tx, promotions, q, eq(promotions.orgId, t.orgId), q.status ? eq(promotions.status, q.status) : undefined, q.project_id ? eq(promotions.projectId, q.project_id) : undefined);
}
