import { and, eq, isNull, sql } from 'drizzle-orm';
import { policies, projectPolicies } from '../../../drizzle/schema/projects.js';
import type { Tx } from '../../shared/db/index.js';
import { problems } from '../../shared/http/index.js';
import type { Tenant } from '../../shared/http/index.js';
import { projectsErrors } from '../errors.js';
import { updateVersioned } from './locking.js';
import { keysetPage, type SortKey } from './paging.js';
import { requireProject } from './projects.js';

export type PolicyRow = typeof policies.$inferSelect;

const live = (orgId: string, id: string) => and(eq(policies.orgId, orgId), eq(policies.id, id), isNull(policies.deletedAt));

export async function requirePolicy(tx: Tx, t: Tenant, id: string): Promise<PolicyRow> {
  const [row] = await tx.select().from(policies).where(live(t.orgId, id));
  if (!row) throw problems.notFound('policy');
  return row;
}

export async function createPolicy(tx: Tx, t: Tenant, input: { name: string; description?: string | null | undefined; rego: string }) {
  const [row] = await tx
    .insert(policies)
    .values({ orgId: t.orgId, name: input.name, description: input.description ?? null, rego: input.rego, createdBy: t.userId, updatedBy: t.userId })
    .returning();
  return row!;
}

export async function listPolicies(tx: Tx, t: Tenant, q: { limit: number; cursor?: string | undefined; sort: SortKey }) {
  return keysetPage(tx, policies, q, eq(policies.orgId, t.orgId), isNull(policies.deletedAt));
}

/** Every edit is a new revision: `version` is both the policy's revision number and its ETag. */
export async function updatePolicy(
  tx: Tx,
  t: Tenant,
  input: { policyId: string; expectedVersion: number; patch: { name?: string | undefined; description?: string | null | undefined; rego?: string | undefined } },
) {
  const { patch } = input;
  const set: Record<string, unknown> = { updatedBy: t.userId };
  for (const k of ['name', 'description', 'rego'] as const) if (patch[k] !== undefined) set[k] = patch[k];
  return updateVersioned(tx, policies, live(t.orgId, input.policyId), input.expectedVersion, set, 'policy');
}

export async function deletePolicy(tx: Tx, t: Tenant, input: { policyId: string; expectedVersion: number }) {
  return updateVersioned(tx, policies, live(t.orgId, input.policyId), input.expectedVersion, { deletedAt: sql`now()`, updatedBy: t.userId }, 'policy');
}

export async function linkPolicy(tx: Tx, t: Tenant, input: { projectId: string; policyId: string }) {
  const { projectId, policyId } = input;
  await requireProject(tx, t, { projectId });
  const policy = await requirePolicy(tx, t, policyId);
  const [link] = await tx
    .insert(projectPolicies)
    .values({ orgId: t.orgId, projectId, policyId, createdBy: t.userId, updatedBy: t.userId })
    .onConflictDoNothing()
    .returning();
  if (!link) throw projectsErrors.duplicate('the policy is already linked to this project');
  return policy;
}

export async function unlinkPolicy(tx: Tx, t: Tenant, input: { projectId: string; policyId: string }): Promise<void> {
  const { projectId, policyId } = input;
  await requireProject(tx, t, { projectId });
  const removed = await tx
    .delete(projectPolicies)
    .where(and(eq(projectPolicies.orgId, t.orgId), eq(projectPolicies.projectId, projectId), eq(projectPolicies.policyId, policyId)))
    .returning({ id: projectPolicies.id });
  if (!removed.length) throw problems.notFound('policy link');
}

export async function projectPolicyList(tx: Tx, t: Tenant, projectId: string) {
  await requireProject(tx, t, { projectId });
  const rows = await tx
    .select({ policy: policies })
    .from(projectPolicies)
    .innerJoin(policies, eq(policies.id, projectPolicies.policyId))
    .where(and(eq(projectPolicies.orgId, t.orgId), eq(projectPolicies.projectId, projectId)))
    .orderBy(policies.name, policies.id);
  return rows.map((r) => r.policy);
}
