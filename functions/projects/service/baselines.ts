import { and, eq } from 'drizzle-orm';
import { baselines, type BaselineOperator } from '../../../drizzle/schema/projects.js';
import type { Tx } from '../../shared/db/index.js';
import { page, problems } from '../../shared/http/index.js';
import type { Principal } from '../../shared/security/tokens.js';
import { checkBaselines } from './baseline-check.js';
import { updateVersioned } from './locking.js';
import { keyset } from './paging.js';
import { requireProject } from './projects.js';

export async function createBaseline(tx: Tx, p: Principal, projectId: string, input: { metric: string; operator: BaselineOperator; threshold: number }) {
  await requireProject(tx, p.orgId, projectId);
  const [row] = await tx
    .insert(baselines)
    .values({ orgId: p.orgId, projectId, metric: input.metric, operator: input.operator, threshold: input.threshold, createdBy: p.userId, updatedBy: p.userId })
    .returning();
  return row!;
}

export async function listBaselines(tx: Tx, orgId: string, projectId: string, q: { limit: number; cursor?: string | undefined }) {
  await requireProject(tx, orgId, projectId);
  const { after, orderBy, key } = keyset(baselines, 'created_at', q.cursor);
  const rows = await tx
    .select({ row: baselines, key })
    .from(baselines)
    .where(and(eq(baselines.orgId, orgId), eq(baselines.projectId, projectId), after))
    .orderBy(...orderBy)
    .limit(q.limit + 1);
  const result = page(rows, q.limit, (r) => [r.key, r.row.id]);
  return { items: result.items.map((r) => r.row), next_cursor: result.next_cursor };
}

const scope = (orgId: string, projectId: string, id: string) => and(eq(baselines.orgId, orgId), eq(baselines.projectId, projectId), eq(baselines.id, id));

export async function updateBaseline(tx: Tx, p: Principal, projectId: string, id: string, expected: number, patch: { metric?: string | undefined; operator?: BaselineOperator | undefined; threshold?: number | undefined }) {
  await requireProject(tx, p.orgId, projectId);
  const set: Record<string, unknown> = { updatedBy: p.userId };
  for (const k of ['metric', 'operator', 'threshold'] as const) if (patch[k] !== undefined) set[k] = patch[k];
  return updateVersioned(tx, baselines, scope(p.orgId, projectId, id), expected, set, 'baseline');
}

export async function deleteBaseline(tx: Tx, p: Principal, projectId: string, id: string, expected: number): Promise<void> {
  await requireProject(tx, p.orgId, projectId);
  const deleted = await tx.delete(baselines).where(and(scope(p.orgId, projectId, id), eq(baselines.version, expected))).returning({ id: baselines.id });
  if (deleted.length) return;
  const [exists] = await tx.select({ id: baselines.id }).from(baselines).where(scope(p.orgId, projectId, id));
  throw exists ? problems.preconditionFailed() : problems.notFound('baseline');
}

export async function projectBaselines(tx: Tx, orgId: string, projectId: string) {
  return tx.select().from(baselines).where(and(eq(baselines.orgId, orgId), eq(baselines.projectId, projectId))).orderBy(baselines.metric, baselines.operator);
}

export async function checkProjectBaselines(tx: Tx, orgId: string, projectId: string, metrics: Record<string, unknown>) {
  await requireProject(tx, orgId, projectId);
  return checkBaselines(await projectBaselines(tx, orgId, projectId), metrics);
}
