import { randomBytes } from 'node:crypto';
import { and, count, eq, ilike, isNull, sql } from 'drizzle-orm';
import { projectErrors, projects, type ProjectHealthStatus, type ValidationStatus } from '../../../drizzle/schema/projects.js';
import type { Tx } from '../../shared/db/index.js';
import { problems } from '../../shared/http/index.js';
import type { Tenant } from '../../shared/http/index.js';
import { slugify } from '../../shared/slug.js';
import { projectsErrors } from '../errors.js';
import { emit } from './events.js';
import { updateVersioned } from './locking.js';
import { keysetPage, type SortKey } from './paging.js';
import { deriveProjectStatus } from './status.js';

export type ProjectRow = typeof projects.$inferSelect;

export interface ProjectListQuery {
  limit: number;
  cursor?: string | undefined;
  sort: SortKey;
  status?: ProjectHealthStatus | undefined;
  schema_status?: ValidationStatus | undefined;
  sheriff_status?: ValidationStatus | undefined;
  gauntlet_status?: ValidationStatus | undefined;
  q?: string | undefined;
  include_deleted?: boolean | undefined;
}

const scopeOf = (orgId: string, id: string, includeDeleted = false) =>
  and(eq(projects.orgId, orgId), eq(projects.id, id), includeDeleted ? undefined : isNull(projects.deletedAt));

/**
 * The project a nested route works on: live and in the caller's org, else 404 (never 403, so ids of
 * other tenants reveal nothing). `lock` serialises writers that derive state from the project
 * (status recomputation, version numbering, rollback).
 */
export async function requireProject(tx: Tx, t: Tenant, input: { projectId: string; lock?: boolean; includeDeleted?: boolean }): Promise<ProjectRow> {
  const q = tx.select().from(projects).where(scopeOf(t.orgId, input.projectId, input.includeDeleted));
  const [row] = input.lock ? await q.for('update') : await q;
  if (!row) throw problems.notFound('project');
  return row;
}

async function slugInUse(tx: Tx, t: Tenant, slug: string): Promise<boolean> {
  const rows = await tx.select({ id: projects.id }).from(projects).where(and(eq(projects.orgId, t.orgId), eq(projects.slug, slug), isNull(projects.deletedAt))).limit(1);
  return rows.length > 0;
}

export async function createProject(tx: Tx, t: Tenant, input: { name: string; slug?: string | undefined; description?: string | null | undefined }): Promise<ProjectRow> {
  let slug = input.slug;
  if (!slug) {
    // A derived slug must not fail the create: disambiguate it instead of answering 409.
    slug = slugify(input.name, 'project');
    if (await slugInUse(tx, t, slug)) slug = `${slug}-${randomBytes(3).toString('hex')}`;
  }
  const [row] = await tx
    .insert(projects)
    .values({ orgId: t.orgId, name: input.name, slug, description: input.description ?? null, createdBy: t.userId, updatedBy: t.userId })
    .returning();
  await emit(tx, { type: 'project.created', orgId: t.orgId, actorId: t.userId, key: [row!.id], data: { project_id: row!.id } });
  return row!;
}

export async function listProjects(tx: Tx, t: Tenant, q: ProjectListQuery) {
  return keysetPage(
    tx,
    projects,
    q,
    eq(projects.orgId, t.orgId),
    q.include_deleted ? undefined : isNull(projects.deletedAt),
    q.status ? eq(projects.status, q.status) : undefined,
    q.schema_status ? eq(projects.schemaStatus, q.schema_status) : undefined,
    q.sheriff_status ? eq(projects.sheriffStatus, q.sheriff_status) : undefined,
    q.gauntlet_status ? eq(projects.gauntletStatus, q.gauntlet_status) : undefined,
    q.q ? ilike(projects.name, `%${q.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`) : undefined,
  );
}

export async function getProject(tx: Tx, t: Tenant, input: { projectId: string; includeDeleted?: boolean }): Promise<ProjectRow> {
  return requireProject(tx, t, { projectId: input.projectId, includeDeleted: input.includeDeleted ?? false });
}

export async function updateProject(
  tx: Tx,
  t: Tenant,
  input: { projectId: string; expectedVersion: number; patch: { name?: string | undefined; slug?: string | undefined; description?: string | null | undefined } },
): Promise<ProjectRow> {
  const { patch } = input;
  const set: Record<string, unknown> = { updatedBy: t.userId };
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.slug !== undefined) set.slug = patch.slug;
  if (patch.description !== undefined) set.description = patch.description;
  return updateVersioned(tx, projects, scopeOf(t.orgId, input.projectId), input.expectedVersion, set, 'project');
}

export async function deleteProject(tx: Tx, t: Tenant, input: { projectId: string; expectedVersion: number }): Promise<ProjectRow> {
  const row = await updateVersioned(tx, projects, scopeOf(t.orgId, input.projectId), input.expectedVersion, { deletedAt: sql`now()`, updatedBy: t.userId }, 'project');
  await emit(tx, { type: 'project.deleted', orgId: t.orgId, actorId: t.userId, key: [row.id, row.version], data: { project_id: row.id } });
  return row;
}

export async function restoreProject(tx: Tx, t: Tenant, id: string): Promise<ProjectRow> {
  const row = await requireProject(tx, t, { projectId: id, includeDeleted: true, lock: true });
  if (!row.deletedAt) throw projectsErrors.notDeleted('the project is not deleted');
  if (await slugInUse(tx, t, row.slug)) throw projectsErrors.slugTaken(`another live project uses the slug "${row.slug}"`);
  const [restored] = await tx
    .update(projects)
    .set({ deletedAt: null, updatedBy: t.userId, version: sql`${projects.version} + 1` })
    .where(eq(projects.id, row.id))
    .returning();
  await emit(tx, { type: 'project.restored', orgId: t.orgId, actorId: t.userId, key: [row.id, restored!.version], data: { project_id: row.id } });
  return restored!;
}

/**
 * Recomputes the derived status from the latest validation results and the unresolved errors, with
 * `changes` applied, as the tenant's user. The caller holds the project row lock, so concurrent
 * recorders cannot interleave.
 */
export async function refreshStatus(tx: Tx, t: Tenant, input: { project: ProjectRow; changes?: Partial<ProjectRow> }): Promise<ProjectRow> {
  const { project, changes = {} } = input;
  const actorId = t.userId;
  const counts = await tx
    .select({ severity: projectErrors.severity, n: count() })
    .from(projectErrors)
    .where(and(eq(projectErrors.projectId, project.id), isNull(projectErrors.resolvedAt)))
    .groupBy(projectErrors.severity);
  const n = (s: string) => counts.find((c) => c.severity === s)?.n ?? 0;
  const next = { ...project, ...changes };
  const status = deriveProjectStatus({
    schema: next.schemaStatus,
    sheriff: next.sheriffStatus,
    gauntlet: next.gauntletStatus,
    unresolvedErrors: n('error'),
    unresolvedWarnings: n('warning'),
  });
  if (status === project.status && Object.keys(changes).length === 0) return project;
  const [row] = await tx
    .update(projects)
    .set({ ...changes, status, ...(actorId ? { updatedBy: actorId } : {}), version: sql`${projects.version} + 1` })
    .where(eq(projects.id, project.id))
    .returning();
  if (status !== project.status) {
    await emit(tx, { type: 'project.status_changed', orgId: project.orgId, actorId, key: [project.id, row!.version], data: { project_id: project.id, from: project.status, to: status } });
  }
  return row!;
}
