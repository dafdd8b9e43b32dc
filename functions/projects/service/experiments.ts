import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { evaluations, experiments, type EvaluationVerdict, type ExperimentStatus } from '../../../drizzle/schema/experiments_v1.js';
import type { Tx } from '../../shared/db/index.js';
import { problems } from '../../shared/http/index.js';
import type { Tenant } from '../../shared/http/index.js';
import { projectsErrors } from '../errors.js';
import { updateVersioned } from './locking.js';
import { keysetPage } from './paging.js';
import { requireProject } from './projects.js';
import { experimentMoves, illegal } from './transitions.js';
import { requireVersion } from './versions.js';

export type ExperimentRow = typeof experiments.$inferSelect;
export type EvaluationRow = typeof evaluations.$inferSelect;

const scope = (orgId: string, id: string) => and(eq(experiments.orgId, orgId), eq(experiments.id, id), isNull(experiments.deletedAt));

export async function requireExperiment(tx: Tx, t: Tenant, id: string): Promise<ExperimentRow> {
  const [row] = await tx.select().from(experiments).where(scope(t.orgId, id));
  if (!row) throw problems.notFound('experiment');
  await requireProject(tx, t, { projectId: row.projectId });
  return row;
}

/** Experiments run on versions in the experimentation zone (v1) only. */
export async function createExperiment(
  tx: Tx,
  t: Tenant,
  input: { projectId: string; version_id: string; name: string; hypothesis?: string | null | undefined; config?: Record<string, unknown> | undefined },
) {
  const { projectId } = input;
  await requireProject(tx, t, { projectId });
  const version = await requireVersion(tx, t, { versionId: input.version_id, projectId });
  if (version.zone !== 'v1') throw projectsErrors.wrongZone(`experiments run on v1 versions; version ${version.versionNumber} is in ${version.zone}`);
  const [row] = await tx
    .insert(experiments)
    .values({ orgId: t.orgId, projectId, versionId: version.id, name: input.name, hypothesis: input.hypothesis ?? null, config: input.config ?? {}, createdBy: t.userId, updatedBy: t.userId })
    .returning();
  return row!;
}

export async function listExperiments(tx: Tx, t: Tenant, q: { projectId: string; limit: number; cursor?: string | undefined; status?: ExperimentStatus | undefined; version_id?: string | undefined }) {
  const { projectId } = q;
  await requireProject(tx, t, { projectId });
  return keysetPage(tx, experiments, q, eq(experiments.orgId, t.orgId), eq(experiments.projectId, projectId), isNull(experiments.deletedAt), q.status ? eq(experiments.status, q.status) : undefined, q.version_id ? eq(experiments.versionId, q.version_id) : undefined);
}

export async function updateExperiment(
  tx: Tx,
  t: Tenant,
  input: { experimentId: string; expectedVersion: number; patch: { name?: string | undefined; hypothesis?: string | null | undefined; config?: Record<string, unknown> | undefined } },
) {
  const { experimentId, patch } = input;
  const current = await requireExperiment(tx, t, experimentId);
  if (current.status !== 'draft' && patch.config !== undefined) throw projectsErrors.illegalTransition('the config of a started experiment is fixed');
  const set: Record<string, unknown> = { updatedBy: t.userId };
  for (const k of ['name', 'hypothesis', 'config'] as const) if (patch[k] !== undefined) set[k] = patch[k];
  return updateVersioned(tx, experiments, scope(t.orgId, experimentId), input.expectedVersion, set, 'experiment');
}

export async function deleteExperiment(tx: Tx, t: Tenant, input: { experimentId: string; expectedVersion: number }) {
  await requireExperiment(tx, t, input.experimentId);
  return updateVersioned(tx, experiments, scope(t.orgId, input.experimentId), input.expectedVersion, { deletedAt: sql`now()`, updatedBy: t.userId }, 'experiment');
}

export async function moveExperiment(tx: Tx, t: Tenant, input: { experimentId: string; to: Exclude<ExperimentStatus, 'draft'> }) {
  const { experimentId: id, to } = input;
  const current = await requireExperiment(tx, t, id);
  const from = experimentMoves[to];
  const set: Record<string, unknown> = { status: to, updatedBy: t.userId, version: sql`${experiments.version} + 1` };
  if (to === 'running') set.startedAt = sql`now()`;
  else set.finishedAt = sql`now()`;
  const [row] = await tx
    .update(experiments)
    .set(set)
    .where(and(scope(t.orgId, id), inArray(experiments.status, [...from])))
    .returning();
  if (!row) throw illegal('the experiment', current.status, to);
  return row;
}

/** The verdict that counts: a human override wins over the AI's, and both are kept. */
export const effectiveVerdict = (e: Pick<EvaluationRow, 'aiVerdict' | 'humanOverride'>): EvaluationVerdict => e.humanOverride ?? e.aiVerdict;

export async function createEvaluation(
  tx: Tx,
  t: Tenant,
  input: {
    experimentId: string;
    metrics: Record<string, number>;
    ai_verdict: EvaluationVerdict;
    ai_rationale?: string | null | undefined;
    human_override?: EvaluationVerdict | undefined;
    human_override_reason?: string | undefined;
  },
) {
  const { experimentId } = input;
  const experiment = await requireExperiment(tx, t, experimentId);
  if (experiment.status !== 'running' && experiment.status !== 'completed') {
    throw projectsErrors.illegalTransition(`an experiment in ${experiment.status} cannot be evaluated (start it first)`);
  }
  const override = input.human_override
    ? { humanOverride: input.human_override, humanOverrideReason: input.human_override_reason ?? null, reviewerId: t.userId, reviewedAt: new Date() }
    : {};
  const [row] = await tx
    .insert(evaluations)
    .values({ orgId: t.orgId, experimentId, metrics: input.metrics, aiVerdict: input.ai_verdict, aiRationale: input.ai_rationale ?? null, ...override, createdBy: t.userId, updatedBy: t.userId })
    .returning();
  return row!;
}

export async function requireEvaluation(tx: Tx, t: Tenant, id: string): Promise<EvaluationRow & { projectId: string; versionId: string }> {
  const [row] = await tx
    .select({ e: evaluations, projectId: experiments.projectId, versionId: experiments.versionId })
    .from(evaluations)
    .innerJoin(experiments, eq(experiments.id, evaluations.experimentId))
    .where(and(eq(evaluations.orgId, t.orgId), eq(evaluations.id, id), isNull(experiments.deletedAt)));
  if (!row) throw problems.notFound('evaluation');
  await requireProject(tx, t, { projectId: row.projectId });
  return { ...row.e, projectId: row.projectId, versionId: row.versionId };
}

export async function overrideEvaluation(tx: Tx, t: Tenant, input: { evaluationId: string; verdict: EvaluationVerdict; reason: string }) {
  const id = input.evaluationId;
  await requireEvaluation(tx, t, id);
  const [row] = await tx
    .update(evaluations)
    .set({ humanOverride: input.verdict, humanOverrideReason: input.reason, reviewerId: t.userId, reviewedAt: new Date(), updatedBy: t.userId, version: sql`${evaluations.version} + 1` })
    .where(eq(evaluations.id, id))
    .returning();
  return row!;
}

export async function listEvaluations(tx: Tx, t: Tenant, q: { experimentId: string; limit: number; cursor?: string | undefined }) {
  const { experimentId } = q;
  await requireExperiment(tx, t, experimentId);
  return keysetPage(tx, evaluations, q, eq(evaluations.orgId, t.orgId), eq(evaluations.experimentId, experimentId));
}

/** The most recent evaluation of any live experiment on a version (what promotions and comparisons judge). */
export async function latestEvaluation(tx: Tx, t: Tenant, versionId: string): Promise<EvaluationRow | undefined> {
  const [row] = await tx
    .select({ e: evaluations })
    .from(evaluations)
    .innerJoin(experiments, eq(experiments.id, evaluations.experimentId))
    .where(and(eq(evaluations.orgId, t.orgId), eq(experiments.versionId, versionId), isNull(experiments.deletedAt)))
    .orderBy(desc(evaluations.createdAt), desc(evaluations.id))
    .limit(1);
  return row?.e;
}
