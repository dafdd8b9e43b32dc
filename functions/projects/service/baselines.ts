import { and, eq } from 'drizzle-orm';
import { baselines, type BaselineOperator } from '../../../drizzle/schema/projects.js';
import type { Tx } from '../../shared/db/index.js';
import { problems } from '../../shared/http/index.js';
import type { Tenant } from '../../shared/http/index.js';
import { checkBaselines } from './baseline-check.js';
import { updateVersioned } from './locking.js';
import { keysetPage } from './paging.js';
import { requireProject } from './projects.js';

export async function createBaseline(tx: Tx, t: Tenant, input: { projectId: string; metric: string; operator: BaselineOperator; threshold: number }) {
  const { projectId } = input;
  await requireProject(tx, t, { projectId });
  const [row] = await tx
    .insert(baselines)
    .values({ orgId: t.orgId, projectId, metric: input.metric, operator: input.operator, threshold: input.threshold, createdBy: t.userId, updatedBy: t.userId })
    .returning();
  return row!;
}

export async function listBaselines(tx: Tx, t: Tenant, input: { projectId: string; limit: number; cursor?: string | undefined }) {
  const { projectId } = input;
  await requireProject(tx, t, { projectId });
  return keysetPage(tx, baselines, input, eq(baselines.orgId, t.orgId), eq(baselines.projectId, projectId));
}

const scope = (orgId: string, projectId: string, id: string) => and(eq(baselines.orgId, orgId), eq(baselines.projectId, projectId), eq(baselines.id, id));

export async function updateBaseline(
  tx: Tx,
  t: Tenant,
  input: { projectId: string; baselineId: string; expectedVersion: number; patch: { metric?: string | undefined; operator?: BaselineOperator | undefined; threshold?: number | undefined } },
) {
  const { projectId, baselineId, expectedVersion, patch } = input;
  await requireProject(tx, t, { projectId });
  const set: Record<string, unknown> = { updatedBy: t.userId };
  for (const k of ['metric', 'operator', 'threshold'] as const) if (patch[k] !== undefined) set[k] = patch[k];
  return updateVersioned(tx, baselines, scope(t.orgId, projectId, baselineId), expectedVersion, set, 'baseline');
}

export async function deleteBaseline(tx: Tx, t: Tenant, input: { projectId: string; baselineId: string; expectedVersion: number }): Promise<void> {
  const { projectId, baselineId, expectedVersion } = input;
  await requireProject(tx, t, { projectId });
  const deleted = await tx.delete(baselines).where(and(scope(t.orgId, projectId, baselineId), eq(baselines.version, expectedVersion))).returning({ id: baselines.id });
  if (deleted.length) return;
  const [exists] = await tx.select({ id: baselines.id }).from(baselines).where(scope(t.orgId, projectId, baselineId));
  throw exists ? problems.preconditionFailed() : problems.notFound('baseline');
}

export async function projectBaselines(tx: Tx, t: Tenant, projectId: string) {
  return tx.select().from(baselines).where(and(eq(baselines.orgId, t.orgId), eq(baselines.projectId, projectId))).orderBy(baselines.metric, baselines.operator);
}

export async function checkProjectBaselines(tx: Tx, t: Tenant, input: { projectId: string; metrics: Record<string, unknown> }) {
  await requireProject(tx, t, { projectId: input.projectId });
  return checkBaselines(await projectBaselines(tx, t, input.projectId), input.metrics);
}
