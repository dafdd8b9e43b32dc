import { and, eq } from 'drizzle-orm';
import { comparisonReports } from '../../../drizzle/schema/experiments_v1.js';
import type { Tx } from '../../shared/db/index.js';
import { problems } from '../../shared/http/index.js';
import type { Tenant } from '../../shared/http/index.js';
import { projectsErrors } from '../errors.js';
import { effectiveVerdict, latestEvaluation } from './experiments.js';
import { keysetPage } from './paging.js';
import { requireProject } from './projects.js';
import { requireVersion } from './versions.js';

export interface MetricDelta {
  base: number | null;
  candidate: number | null;
  delta: number | null;
  /** delta / |base|, null when base is 0 or missing. */
  relative: number | null;
}

/** Per-metric deltas between two metric objects (union of their numeric metrics, sorted by name). */
export function metricDeltas(base: Record<string, unknown>, candidate: Record<string, unknown>): Record<string, MetricDelta> {
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const names = [...new Set([...Object.keys(base), ...Object.keys(candidate)])].sort();
  const out: Record<string, MetricDelta> = {};
  for (const name of names) {
    const b = num(base[name]);
    const c = num(candidate[name]);
    const delta = b !== null && c !== null ? c - b : null;
    out[name] = { base: b, candidate: c, delta, relative: delta !== null && b ? delta / Math.abs(b) : null };
  }
  return out;
}

/** Compares the latest evaluations of two versions of one project; the service computes every delta. */
export async function createComparison(tx: Tx, t: Tenant, input: { base_version_id: string; candidate_version_id: string }) {
  if (input.base_version_id === input.candidate_version_id) throw projectsErrors.sameVersion('compare two different versions');
  const base = await requireVersion(tx, t, { versionId: input.base_version_id });
  const candidate = await requireVersion(tx, t, { versionId: input.candidate_version_id });
  if (base.projectId !== candidate.projectId) throw projectsErrors.differentProjects('both versions must belong to the same project');
  const baseEval = await latestEvaluation(tx, t, base.id);
  const candEval = await latestEvaluation(tx, t, candidate.id);
  if (!baseEval || !candEval) throw projectsErrors.illegalTransition(`version ${!baseEval ? base.versionNumber : candidate.versionNumber} has no evaluation to compare`);
  const deltas = metricDeltas(baseEval.metrics, candEval.metrics);
  const summary = {
    base: { version_id: base.id, version_number: base.versionNumber, evaluation_id: baseEval.id, verdict: effectiveVerdict(baseEval) },
    candidate: { version_id: candidate.id, version_number: candidate.versionNumber, evaluation_id: candEval.id, verdict: effectiveVerdict(candEval) },
    metrics_compared: Object.values(deltas).filter((d) => d.delta !== null).length,
  };
  const [row] = await tx
    .insert(comparisonReports)
    .values({ orgId: t.orgId, projectId: base.projectId, baseVersionId: base.id, candidateVersionId: candidate.id, deltas: deltas as unknown as Record<string, unknown>, summary, createdBy: t.userId, updatedBy: t.userId })
    .returning();
  return row!;
}

export async function requireComparison(tx: Tx, t: Tenant, id: string) {
  const [row] = await tx.select().from(comparisonReports).where(and(eq(comparisonReports.orgId, t.orgId), eq(comparisonReports.id, id)));
  if (!row) throw problems.notFound('comparison');
  await requireProject(tx, t, { projectId: row.projectId });
  return row;
}

export async function listComparisons(tx: Tx, t: Tenant, q: { projectId: string; limit: number; cursor?: string | undefined }) {
  const { projectId } = q;
  await requireProject(tx, t, { projectId });
  return keysetPage(tx, comparisonReports, q, eq(comparisonReports.orgId, t.orgId), eq(comparisonReports.projectId, projectId));
}
