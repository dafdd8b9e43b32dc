import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { passwordResets, recoveryCodes, users } from '../../../drizzle/schema/auth.js';
import type { Tx } from '../../shared/db/database.js';
import type { Tenant } from '../../shared/http/transactions.js';
import { authErrors } from '../errors.js';
import { writeAuthEvent } from './audit.js';
import type { ClientInfo } from './client.js';
import { recordFailure, type UserRow } from './users.js';

// The transactional steps of the password flows (flows/password.ts sequences them with hashing and mail).

export const RESET_TTL_MINUTES = 30;

/** The one answer of POST /password/forgot, whether or not the address has an account. */
export const FORGOT_ANSWER = {
  status: 'accepted',
  detail: 'if an account exists for this address, a password reset link has been sent',
} as const;

/** System transaction: a reset token (its SHA-256 only) for the user, audited. */
export async function storeResetToken(
  tx: Tx,
  user: UserRow,
  reset: { tokenHash: string; expiresAt: Date; emailHash: string },
  client: ClientInfo,
): Promise<void> {
  await tx.insert(passwordResets).values({ orgId: user.orgId, userId: user.id, tokenHash: reset.tokenHash, expiresAt: reset.expiresAt });
  await writeAuthEvent(tx, { event: 'password_reset_requested', orgId: user.orgId, userId: user.id, emailHash: reset.emailHash, client });
}

const pendingReset = (tokenHash: string) =>
  and(eq(passwordResets.tokenHash, tokenHash), isNull(passwordResets.usedAt), gt(passwordResets.expiresAt, sql`now()`));

export interface PendingReset {
  userId: string;
  orgId: string;
  email: string;
}

/** System transaction (before any tenant is known): the unspent, unexpired reset a token hash names. */
export async function findPendingReset(tx: Tx, tokenHash: string): Promise<PendingReset | undefined> {
  const [pending] = await tx
    .select({ userId: passwordResets.userId, orgId: passwordResets.orgId, email: users.email })
    .from(passwordResets)
    .innerJoin(users, and(eq(users.id, passwordResets.userId), isNull(users.deletedAt)))
    .where(pendingReset(tokenHash))
    .limit(1);
  return pending;
}

/**
 * System transaction acting as the user: spends the reset token (atomically: a second spend matches
 * no row and answers invalid-reset-token) and sets the new password. TOTP stays unless the user asks
 * (`disableTotp`), with its recovery codes. The password_hash update moves token_version (trigger).
 */
export async function spendReset(
  tx: Tx,
  pending: PendingReset,
  input: { tokenHash: string; passwordHash: string; disableTotp: boolean },
  client: ClientInfo,
): Promise<void> {
  const spent = await tx.update(passwordResets).set({ usedAt: new Date() }).where(pendingReset(input.tokenHash)).returning({ id: passwordResets.id });
  if (spent.length !== 1) throw authErrors.invalidResetToken();
  // Proving control of the mailbox also lifts a lockout; other pending tokens die with this one.
  await tx
    .update(users)
    .set({ passwordHash: input.passwordHash, passwordChangedAt: new Date(), failedAttempts: 0, lockedUntil: null })
    .where(eq(users.id, pending.userId));
  await tx
    .update(passwordResets)
    .set({ usedAt: new Date() })
    .where(and(eq(passwordResets.userId, pending.userId), isNull(passwordResets.usedAt)));
  await writeAuthEvent(tx, { event: 'password_reset', orgId: pending.orgId, userId: pending.userId, client });
  if (input.disableTotp) {
    const off = await tx
      .update(users)
      .set({ totpEnabled: false, totpSecretEncrypted: null, totpLastStep: null })
      .where(and(eq(users.id, pending.userId), eq(users.totpEnabled, true)))
      .returning({ id: users.id });
    await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, pending.userId));
    if (off.length) await writeAuthEvent(tx, { event: 'mfa_disabled', orgId: pending.orgId, userId: pending.userId, client, details: { via: 'password_reset' } });
  }
}

/** System transaction: a wrong current password at a password change counts towards the lockout, audited. */
export async function recordWrongCurrentPassword(tx: Tx, t: Tenant, client: ClientInfo): Promise<void> {
  await recordFailure(tx, t.userId);
  await writeAuthEvent(tx, { event: 'login_failed', orgId: t.orgId, userId: t.userId, client, details: { reason: 'wrong_password', stage: 'password_change' } });
}

/** Tenant transaction: the caller's new password (hashed by the caller), audited. */
export async function storeNewPassword(tx: Tx, t: Tenant, passwordHash: string, client: ClientInfo): Promise<void> {
  await tx.update(users).set({ passwordHash, passwordChangedAt: new Date() }).where(eq(users.id, t.userId));
  await writeAuthEvent(tx, { event: 'password_changed', orgId: t.orgId, userId: t.userId, client });
}
