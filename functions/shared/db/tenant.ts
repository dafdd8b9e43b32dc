import { sql } from 'drizzle-orm';
import type { Database, Tx } from './database.js';

export interface TenantContext {
  orgId: string;
  userId?: string | null;
}

/**
 * Runs `fn` in a transaction as the application role with `app.org_id` / `app.user_id` set,
 * so row-level security scopes every statement to the tenant and audit triggers know the actor.
 * One round trip: set_config('role', …, true) is SET LOCAL ROLE. Parameters are bound, never spliced.
 *
 * @example
 * const project = await withTenant(database, { orgId, userId }, (tx) =>
 *   tx.select().from(projects).where(eq(projects.id, id)));
 */
export function withTenant<T>(database: Database, tenant: TenantContext, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return database.db.transaction(async (tx) => {
    await tx.execute(
      sql`select set_config('app.org_id', ${tenant.orgId}, true), set_config('app.user_id', ${tenant.userId ?? ''}, true), set_config('role', ${database.appRole}, true)`,
    );
    return fn(tx as unknown as Tx);
  });
}

/**
 * A transaction as the connecting (owner) role, outside any tenant: for the few cross-tenant
 * paths (login by email, invitation lookup, scheduler jobs). Keep its uses few and named.
 */
export function withSystem<T>(database: Database, fn: (tx: Tx) => Promise<T>, actorId?: string | null): Promise<T> {
  return database.db.transaction(async (tx) => {
    if (actorId) await tx.execute(sql`select set_config('app.user_id', ${actorId}, true)`);
    return fn(tx as unknown as Tx);
  });
}
