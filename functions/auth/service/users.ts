import { and, eq, isNull, sql } from 'drizzle-orm';
import { users } from '../../../drizzle/schema/auth.js';
import type { Queryable } from '../../shared/db/database.js';
import { rowsOf } from '../../shared/db/rows.js';

export type UserRow = typeof users.$inferSelect;

/** Consecutive failures that lock an account, and for how long (DESIGN.md §3 "Login"). */
export const LOCKOUT_THRESHOLD = 10;
export const LOCKOUT_MINUTES = 15;

/** Login looks the account up before the tenant is known (a system transaction): the one place email crosses orgs. */
export async function findUserByEmail(tx: Queryable, email: string): Promise<UserRow | undefined> {
  const [row] = await tx.select().from(users).where(and(sql`lower(${users.email}) = lower(${email.trim()})`, isNull(users.deletedAt))).limit(1);
  return row;
}

/** The signed-in caller's own row, when it may still act (tenant transaction). */
export async function activeUser(tx: Queryable, t: { userId: string }): Promise<UserRow | undefined> {
  const user = await findUserById(tx, t.userId);
  return user && user.status === 'active' ? user : undefined;
}

export async function findUserById(tx: Queryable, id: string): Promise<UserRow | undefined> {
  const [row] = await tx.select().from(users).where(and(eq(users.id, id), isNull(users.deletedAt))).limit(1);
  return row;
}

/**
 * Counts one failure in a single statement, so parallel guesses serialise on the row: once the
 * 10th sets locked_until, the others no longer match the WHERE and count nothing. A lock that has
 * expired starts a fresh count. Returns whether this failure locked the account; no row means it
 * is locked now.
 */
export async function recordFailure(tx: Queryable, userId: string): Promise<{ counted: boolean; lockedNow: boolean; attempts: number }> {
  const result = await tx.execute(sql`
    update auth.users set
      failed_attempts = case when locked_until is not null then 1 else failed_attempts + 1 end,
      locked_until = case
        when (case when locked_until is not null then 1 else failed_attempts + 1 end) >= ${LOCKOUT_THRESHOLD}
          then now() + make_interval(mins => ${LOCKOUT_MINUTES})
        else null end
    where id = ${userId} and (locked_until is null or locked_until <= now())
    returning failed_attempts, locked_until`);
  const row = rowsOf<{ failed_attempts: number; locked_until: Date | null }>(result)[0];
  if (!row) return { counted: false, lockedNow: false, attempts: LOCKOUT_THRESHOLD };
  return { counted: true, lockedNow: row.locked_until !== null, attempts: Number(row.failed_attempts) };
}

/**
 * Clears the counter after a complete sign-in, unless the account is locked (checked in the same
 * statement, so a lock set a moment ago is not cleared). Returns the seconds of lock left, or 0.
 */
export async function clearFailures(tx: Queryable, userId: string, markLogin: boolean): Promise<number> {
  const result = await tx.execute(sql`
    with cleared as (
      update auth.users set failed_attempts = 0, locked_until = null,
        last_login_at = case when ${markLogin} then now() else last_login_at end
      where id = ${userId} and (locked_until is null or locked_until <= now())
      returning id)
    select (select count(*) from cleared)::int as cleared,
           coalesce(extract(epoch from (select locked_until from auth.users where id = ${userId}) - now()), 0)::float8 as wait`);
  const row = rowsOf<{ cleared: number; wait: number }>(result)[0]!;
  return row.cleared > 0 ? 0 : Math.max(1, Number(row.wait));
}

/** Seconds left on a lock, 0 when unlocked (read-only: MFA-pending logins must not clear the count). */
export function lockRemaining(user: Pick<UserRow, 'lockedUntil'>, now = Date.now()): number {
  return user.lockedUntil && user.lockedUntil.getTime() > now ? (user.lockedUntil.getTime() - now) / 1000 : 0;
}

export function userView(u: UserRow) {
  return {
    id: u.id,
    org_id: u.orgId,
    email: u.email,
    name: u.name,
    role: u.role,
    is_platform_admin: u.isPlatformAdmin,
    mfa_enabled: u.totpEnabled,
    email_verified_at: u.emailVerifiedAt?.toISOString() ?? null,
    last_login_at: u.lastLoginAt?.toISOString() ?? null,
    created_at: u.createdAt.toISOString(),
  };
}
