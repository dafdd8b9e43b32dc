import { and, eq, isNotNull, isNull } from 'drizzle-orm';
import { projectErrors, validations, type ProjectErrorSeverity, type ValidationKind, type ValidationStatus } from '../../../drizzle/schema/projects.js';
import type { Tx } from '../../shared/db/index.js';
import { problems } from '../../shared/http/index.js';
import type { Tenant } from '../../shared/http/index.js';
import { projectsErrors } from '../errors.js';
import { keysetPage } from './paging.js';
import { refreshStatus, requireProject, type ProjectRow } from './projects.js';

const STATUS_COLUMN = { schema: 'schemaStatus', sheriff: 'sheriffStatus', gauntlet: 'gauntletStatus' } as const;

/**
 * Records a validation run and re-derives the project's status in the same transaction.
 * `not_run` is not a run (the runs table only holds pending/passed/failed): it resets that kind's
 * status, e.g. when a check is switched off, and records no row.
 */
export async function recordValidation(
  tx: Tx,
  t: Tenant,
  input: { projectId: string; kind: ValidationKind; result: ValidationStatus; details?: Record<string, unknown> | undefined },
): Promise<{ validation: typeof validations.$inferSelect | null; project: ProjectRow }> {
  const { projectId } = input;
  const project = await requireProject(tx, t, { projectId, lock: true });
  const finished = input.result === 'passed' || input.result === 'failed';
  let validation: typeof validations.$inferSelect | null = null;
  if (input.result !== 'not_run') {
    const [inserted] = await tx
      .insert(validations)
      .values({ orgId: t.orgId, projectId, kind: input.kind, result: input.result as 'pending' | 'passed' | 'failed', details: input.details ?? {}, finishedAt: finished ? new Date() : null, createdBy: t.userId, updatedBy: t.userId })
      .returning();
    validation = inserted ?? null;
  }
  const changes: Partial<ProjectRow> = { [STATUS_COLUMN[input.kind]]: input.result };
  if (finished) changes.lastValidatedAt = new Date();
  const updated = await refreshStatus(tx, t, { project, changes });
  return { validation: validation ?? null, project: updated };
}

export async function listValidations(tx: Tx, t: Tenant, q: { projectId: string; limit: number; cursor?: string | undefined; kind?: ValidationKind | undefined }) {
  const { projectId } = q;
  await requireProject(tx, t, { projectId });
  return keysetPage(tx, validations, q, eq(validations.orgId, t.orgId), eq(validations.projectId, projectId), q.kind ? eq(validations.kind, q.kind) : undefined);
}

export async function createError(
  tx: Tx,
  t: Tenant,
  input: { projectId: string; code: string; message: string; severity: ProjectErrorSeverity; file_path?: string | undefined; line_number?: number | undefined; validation_id?: string | undefined },
) {
  const { projectId } = input;
  const project = await requireProject(tx, t, { projectId, lock: true });
  if (input.validation_id) {
    const [run] = await tx.select({ id: validations.id }).from(validations).where(and(eq(validations.id, input.validation_id), eq(validations.projectId, projectId), eq(validations.orgId, t.orgId)));
    if (!run) throw problems.notFound('validation');
  }
  const [row] = await tx
    .insert(projectErrors)
    .values({
      orgId: t.orgId,
      projectId,
      validationId: input.validation_id ?? null,
      code: input.code,
      message: input.message,
      severity: input.severity,
      filePath: input.file_path ?? null,
      lineNumber: input.line_number ?? null,
      createdBy: t.userId,
      updatedBy: t.userId,
    })
    .returning();
  const updated = await refreshStatus(tx, t, { project });
  return { error: row!, project: updated };
}

export async function listErrors(tx: Tx, t: Tenant, q: { projectId: string; limit: number; cursor?: string | undefined; resolved?: boolean | undefined; severity?: ProjectErrorSeverity | undefined }) {
  const { projectId } = q;
  await requireProject(tx, t, { projectId });
  return keysetPage(tx, projectErrors, q, eq(projectErrors.orgId, t.orgId), eq(projectErrors.projectId, projectId), q.resolved === undefined ? undefined : q.resolved ? isNotNull(projectErrors.resolvedAt) : isNull(projectErrors.resolvedAt), q.severity ? eq(projectErrors.severity, q.severity) : undefined);
}

export async function resolveError(tx: Tx, t: Tenant, input: { projectId: string; errorId: string }) {
  const { projectId, errorId } = input;
  const project = await requireProject(tx, t, { projectId, lock: true });
  const [current] = await tx
    .select()
    .from(projectErrors)
    .where(and(eq(projectErrors.id, errorId), eq(projectErrors.projectId, projectId), eq(projectErrors.orgId, t.orgId)));
  if (!current) throw problems.notFound('error');
  if (current.resolvedAt) throw projectsErrors.alreadyResolved('the error is already resolved');
  const [row] = await tx
    .update(projectErrors)
    .set({ resolvedAt: new Date(), resolvedBy: t.userId, updatedBy: t.userId })
    .where(eq(projectErrors.id, errorId))
    .returning();
  const updated = await refreshStatus(tx, t, { project });
  return { error: row!, project: updated };
}
