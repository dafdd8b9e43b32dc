import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { evaluations, experiments, type EvaluationVerdict, type ExperimentStatus } from '../../../drizzle/schema/experiments_v1.js';
import type { Tx } from '../../shared/db/index.js';
import { page, problems } from '../../shared/http/index.js';
import type { Principal } from '../../shared/security/tokens.js';
import { projectsErrors } from '../errors.js';
import { updateVersioned } from './locking.js';
import { keyset } from './paging.js';
import { requireProject } from './projects.js';
import { experimentMoves, illegal } from './transitions.js';
import { requireVersion } from './versions.js';

export type ExperimentRow = typeof experiments.$inferSelect;
export type EvaluationRow = typeof evaluations.$inferSelect;

const scope = (orgId: string, id: string) => and(eq(experiments.orgId, orgId), eq(experiments.id, id), isNull(experiments.deletedAt));

export async function requireExperiment(tx: Tx, orgId: string, id: string): Promise<ExperimentRow> {
  const [row] = await tx.select().from(experiments).where(scope(orgId, id));
  if (!row) throw problems.notFound('experiment');
  await requireProject(tx, orgId, row.projectId);
  return row;
}

/** Experiments run on versions in the experimentation zone (v1) only. */
export async function createExperiment(tx: Tx, p: Principal, projectId: string, input: { version_id: string; name: string; hypothesis?: string | null | undefined; config?: Record<string, unknown> | undefined }) {
  await requireProject(tx, p.orgId, projectId);
  const version = await requireVersion(tx, p.orgId, input.version_id, { projectId });
  if (version.zone !== 'v1') throw projectsErrors.wrongZone(`experiments run on v1 versions; version ${version.versionNumber} is in ${version.zone}`);
  const [row] = await tx
    .insert(experiments)
    .values({ orgId: p.orgId, projectId, versionId: version.id, name: input.name, hypothesis: input.hypothesis ?? null, config: input.config ?? {}, createdBy: p.userId, updatedBy: p.userId })
    .returning();
  return row!;
}

export async function listExperiments(tx: Tx, orgId: string, projectId: string, q: { limit: number; cursor?: string | undefined; status?: ExperimentStatus | undefined; version_id?: string | undefined }) {
  await requireProject(tx, orgId, projectId);
  const { after, orderBy, key } = keyset(experiments, 'created_at', q.cursor);
  const rows = await tx
    .select({ row: experiments, key })
    .from(experiments)
    .where(
      and(
        eq(experiments.orgId, orgId),
        eq(experiments.projectId, projectId),
        isNull(experiments.deletedAt),
        q.status ? eq(experiments.status, q.status) : undefined,
        q.version_id ? eq(experiments.versionId, q.version_id) : undefined,
        after,
      ),
    )
    .orderBy(...orderBy)
    .limit(q.limit + 1);
  const result = page(rows, q.limit, (r) => [r.key, r.row.id]);
  return { items: result.items.map((r) => r.row), next_cursor: result.next_cursor };
}

export async function updateExperiment(tx: Tx, p: Principal, id: string, expected: number, patch: { name?: string | undefined; hypothesis?: string | null | undefined; config?: Record<string, unknown> | undefined }) {
  const current = await requireExperiment(tx, p.orgId, id);
  if (current.status !== 'draft' && patch.config !== undefined) throw projectsErrors.illegalTransition('the config of a started experiment is fixed');
  const set: Record<string, unknown> = { updatedBy: p.userId };
  for (const k of ['name', 'hypothesis', 'config'] as const) if (patch[k] !== undefined) set[k] = patch[k];
  return updateVersioned(tx, experiments, scope(p.orgId, id), expected, set, 'experiment');
}

export async function deleteExperiment(tx: Tx, p: Principal, id: string, expected: number) {
  await requireExperiment(tx, p.orgId, id);
  return updateVersioned(tx, experiments, scope(p.orgId, id), expected, { deletedAt: sql`now()`, updatedBy: p.userId }, 'experiment');
}

export async function moveExperiment(tx: Tx, p: Principal, id: string, to: Exclude<ExperimentStatus, 'draft'>) {
  const current = await requireExperiment(tx, p.orgId, id);
  const from = experimentMoves[to];
  const set: Record<string, unknown> = { status: to, updatedBy: p.userId, version: sql`${experiments.version} + 1` };
  if (to === 'running') set.startedAt = sql`now()`;
  else set.finishedAt = sql`now()`;
  const [row] = await tx
    .update(experiments)
    .set(set)
    .where(and(scope(p.orgId, id), inArray(experiments.status, [...from])))
    .returning();
  if (!row) throw illegal('the experiment', current.status, to);
  return row;
}

/** The verdict that counts: a human override wins over the AI's, and both are kept. */
export const effectiveVerdict = (e: Pick<EvaluationRow, 'aiVerdict' | 'humanOverride'>): EvaluationVerdict => e.humanOverride ?? e.aiVerdict;

export async function createEvaluation(
  tx: Tx,
  p: Principal,
  experimentId: string,
  input: { metrics: Record<string, number>; ai_verdict: EvaluationVerdict; ai_rationale?: string | null | undefined; human_override?: EvaluationVerdict | undefined; human_override_reason?: string | undefined },
) {
  const experiment = await requireExperiment(tx, p.orgId, experimentId);
  if (experiment.status !== 'running' && experiment.status !== 'completed') {
    throw projectsErrors.illegalTransition(`an experiment in ${experiment.status} cannot be evaluated (start it first)`);
  }
  const override = input.human_override
    ? { humanOverride: input.human_override, humanOverrideReason: input.human_override_reason ?? null, reviewerId: p.userId, reviewedAt: new Date() }
    : {};
  const [row] = await tx
    .insert(evaluations)
    .values({ orgId: p.orgId, experimentId, metrics: input.metrics, aiVerdict: input.ai_verdict, aiRationale: input.ai_rationale ?? null, ...override, createdBy: p.userId, updatedBy: p.userId })
    .returning();
  return row!;
}

export async function requireEvaluation(tx: Tx, orgId: string, id: string): Promise<EvaluationRow & { projectId: string; versionId: string }> {
  const [row] = await tx
    .select({ e: evaluations, projectId: experiments.projectId, versionId: experiments.versionId })
    .from(evaluations)
    .innerJoin(experiments, eq(experiments.id, evaluations.experimentId))
    .where(and(eq(evaluations.orgId, orgId), eq(evaluations.id, id), isNull(experiments.deletedAt)));
  if (!row) throw problems.notFound('evaluation');
  await requireProject(tx, orgId, row.projectId);
  return { ...row.e, projectId: row.projectId, versionId: row.versionId };
}

export async function overrideEvaluation(tx: Tx, p: Principal, id: string, input: { verdict: EvaluationVerdict; reason: string }) {
  await requireEvaluation(tx, p.orgId, id);
  const [row] = await tx
    .update(evaluations)
    .set({ humanOverride: input.verdict, humanOverrideReason: input.reason, reviewerId: p.userId, reviewedAt: new Date(), updatedBy: p.userId, version: sql`${evaluations.version} + 1` })
    .where(eq(evaluations.id, id))
    .returning();
  return row!;
}

export async function listEvaluations(tx: Tx, orgId: string, experimentId: string, q: { limit: number; cursor?: string | undefined }) {
  await requireExperiment(tx, orgId, experimentId);
  const { after, orderBy, key } = keyset(evaluations, 'created_at', q.cursor);
  const rows = await tx
    .select({ row: evaluations, key })
    .from(evaluations)
    .where(and(eq(evaluations.orgId, orgId), eq(evaluations.experimentId, experimentId), after))
    .orderBy(...orderBy)
    .limit(q.limit + 1);
  const result = page(rows, q.limit, (r) => [r.key, r.row.id]);
  return { items: result.items.map((r) => r.row), next_cursor: result.next_cursor };
}

/** The most recent evaluation of any live experiment on a version (what promotions and comparisons judge). */
export async function latestEvaluation(tx: Tx, orgId: string, versionId: string): Promise<EvaluationRow | undefined> {
  const [row] = await tx
    .select({ e: evaluations })
    .from(evaluations)
    .innerJoin(experiments, eq(experiments.id, evaluations.experimentId))
    .where(and(eq(evaluations.orgId, orgId), eq(experiments.versionId, versionId), isNull(experiments.deletedAt)))
    .orderBy(desc(evaluations.createdAt), desc(evaluations.id))
    .limit(1);
  return row?.e;
}
