import type { Context } from 'hono';
import { databaseProblem, type DatabaseProblemOptions } from '../db/errors.js';
import { withSystem, withTenant } from '../db/tenant.js';
import type { Tx } from '../db/database.js';
import type { Principal, Role } from '../security/tokens.js';

/**
 * Who a service acts for: the caller's organization (row-level security scopes every statement to it),
 * the acting user (audit triggers record it) and the caller's role (for the few rules that depend on
 * it beyond the route's `signedIn({ role })`, e.g. "admins see every member's keys").
 */
export interface Tenant {
  orgId: string;
  userId: string;
  role: Role;
}

export const tenantOf = (principal: Principal): Tenant => ({ orgId: principal.orgId, userId: principal.userId, role: principal.role });

/**
 * The one way a route runs a service: one tenant transaction per request, owned by the route, as the
 * application role with `app.org_id` / `app.user_id` set. Services take `(tx, tenant, input)` and never
 * open transactions themselves, so a route that calls two services commits them together. Database
 * errors a client can provoke (unique, foreign key, check, lock timeout …) become problems through
 * the kernel's mapping (shared/db/errors.ts), never 500s; `options.unique` names a function's own
 * problem for a unique key it knows.
 *
 * @example
 * app.openapi(route, async (c) => c.json(await inTenant(c, (tx, t) => createProject(tx, t, c.req.valid('json'))), 201));
 */
export async function inTenant<T>(c: Context, fn: (tx: Tx, tenant: Tenant) => Promise<T>, options?: DatabaseProblemOptions): Promise<T> {
  return inTenantOf(c, tenantOf(c.var.principal), fn, options);
}

/**
 * The same for a tenant the route learnt from data rather than from the caller's token (a user found
 * by a sign-in step, before any access token exists): row-level security still scopes the work to
 * that user's organization instead of the owner role's every row.
 */
export async function inTenantOf<T>(c: Context, tenant: Tenant, fn: (tx: Tx, tenant: Tenant) => Promise<T>, options?: DatabaseProblemOptions): Promise<T> {
  try {
    return await withTenant(c.var.database, tenant, (tx) => fn(tx, tenant));
  } catch (err) {
    throw databaseProblem(err, options) ?? err;
  }
}

/**
 * A route's transaction as the owner role, before any tenant is known (login by email, invitation and
 * reset-token lookups, scheduler jobs). `actorId` is recorded by audit triggers when there is one.
 */
export async function inSystem<T>(c: Context, fn: (tx: Tx) => Promise<T>, options?: DatabaseProblemOptions & { actorId?: string | null }): Promise<T> {
  try {
    return await withSystem(c.var.database, fn, options?.actorId);
  } catch (err) {
    throw databaseProblem(err, options) ?? err;
  }
}
