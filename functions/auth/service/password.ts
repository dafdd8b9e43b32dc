import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { passwordResets, recoveryCodes, users } from '../../../drizzle/schema/auth.js';
import { withSystem, withTenant } from '../../shared/db/tenant.js';
import { randomToken, sha256Hex } from '../../shared/security/hashing.js';
import { tokenStates } from '../../shared/security/revocation.js';
import type { Principal } from '../../shared/security/tokens.js';
import { authErrors } from '../errors.js';
import type { AuthServices } from '../services.js';
import { emailHashOf, writeAuthEvent } from './audit.js';
import { sendLogged } from './mailer.js';
import type { ClientInfo } from './client.js';
import { assertPasswordPolicy } from './policy.js';
import { enforce } from './rate-limit.js';
import { findUserByEmail, findUserById, recordFailure } from './users.js';

export const RESET_TTL_MINUTES = 30;

/** The one answer of POST /password/forgot, whether or not the address has an account. */
export const FORGOT_ANSWER = {
  status: 'accepted',
  detail: 'if an account exists for this address, a password reset link has been sent',
} as const;

/**
 * Issues a single-use reset token (stored as SHA-256, valid 30 minutes) and mails it. The send is
 * awaited — a Cloud Run function gets no CPU after its response, so mail sent in the background may
 * never leave (https://cloud.google.com/functions/docs/bestpractices/tips, "do not start background
 * activities") — and every answer, account or not, waits the same floor (forgotAnswerFloorMs, started
 * on arrival), so the answer time does not say whether the address exists unless the relay is slower
 * than the floor. A failed send is logged (without the token).
 */
export async function forgotPassword(s: AuthServices, email: string, client: ClientInfo, log: { error: (m: string, f?: Record<string, unknown>) => void }) {
  const floor = new Promise<void>((resolve) => setTimeout(resolve, s.forgotAnswerFloorMs));
  const emailHash = emailHashOf(email);
  await enforce(
    s.database,
    [
      [`forgot:ip:${client.ip}`, s.limits.forgotIp],
      [`forgot:acct:${emailHash}`, s.limits.forgotAccount],
    ],
    client,
    { action: 'password reset', emailHash },
  );
  const user = await findUserByEmail(s.database, email);
  if (!user || user.status !== 'active') return floor;
  const token = randomToken(32);
  const expiresAt = new Date(Date.now() + RESET_TTL_MINUTES * 60_000);
  await withSystem(s.database, async (tx) => {
    await tx.insert(passwordResets).values({ orgId: user.orgId, userId: user.id, tokenHash: sha256Hex(token), expiresAt });
    await writeAuthEvent(tx, { event: 'password_reset_requested', orgId: user.orgId, userId: user.id, emailHash, client });
  });
  await Promise.all([sendLogged(s.mailer.sendPasswordReset({ to: user.email, token, expiresAt }), log, 'password reset', user.email), floor]);
}

const pendingReset = (tokenHash: string) =>
  and(eq(passwordResets.tokenHash, tokenHash), isNull(passwordResets.usedAt), gt(passwordResets.expiresAt, sql`now()`));

/**
 * Sets a new password with a reset token (spent atomically), and ends every session and access token
 * of the user. TOTP stays unless the user asks (`disable_totp`), with its recovery codes.
 */
export async function resetPassword(s: AuthServices, input: { token: string; new_password: string; disable_totp?: boolean }, client: ClientInfo): Promise<void> {
  const tokenHash = sha256Hex(input.token.trim());
  const [pending] = await withSystem(s.database, (tx) =>
    tx
      .select({ userId: passwordResets.userId, orgId: passwordResets.orgId, email: users.email })
      .from(passwordResets)
      .innerJoin(users, and(eq(users.id, passwordResets.userId), isNull(users.deletedAt)))
      .where(pendingReset(tokenHash))
      .limit(1),
  );
  if (!pending) throw authErrors.invalidResetToken();
  assertPasswordPolicy(input.new_password, pending.email, 'new_password');
  const passwordHash = await s.passwords.hash(input.new_password);
  await withSystem(
    s.database,
    async (tx) => {
      const spent = await tx.update(passwordResets).set({ usedAt: new Date() }).where(pendingReset(tokenHash)).returning({ id: passwordResets.id });
      if (spent.length !== 1) throw authErrors.invalidResetToken();
      // Proving control of the mailbox also lifts a lockout; other pending tokens die with this one.
      await tx
        .update(users)
        .set({ passwordHash, passwordChangedAt: new Date(), failedAttempts: 0, lockedUntil: null })
        .where(eq(users.id, pending.userId));
      await tx
        .update(passwordResets)
        .set({ usedAt: new Date() })
        .where(and(eq(passwordResets.userId, pending.userId), isNull(passwordResets.usedAt)));
      await writeAuthEvent(tx, { event: 'password_reset', orgId: pending.orgId, userId: pending.userId, client });
      if (input.disable_totp) {
        const off = await tx
          .update(users)
          .set({ totpEnabled: false, totpSecretEncrypted: null, totpLastStep: null })
          .where(and(eq(users.id, pending.userId), eq(users.totpEnabled, true)))
          .returning({ id: users.id });
        await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, pending.userId));
        if (off.length) await writeAuthEvent(tx, { event: 'mfa_disabled', orgId: pending.orgId, userId: pending.userId, client, details: { via: 'password_reset' } });
      }
    },
    pending.userId,
  );
  await s.sessionStore.revokeAllForUser({ userId: pending.userId, orgId: pending.orgId }, 'password_reset');
  // The password_hash update moved token_version (trigger); this instance forgets its cached state now.
  tokenStates.forget(pending.userId);
}

/** Changes the password (the current one is required) and revokes every other session. */
export async function changePassword(
  s: AuthServices,
  p: Principal,
  input: { current_password: string; new_password: string },
  client: ClientInfo,
): Promise<void> {
  await enforce(s.database, [[`pwchange:user:${p.userId}`, s.limits.loginAccount]], client, { action: 'password change', userId: p.userId, orgId: p.orgId });
  const scope = { orgId: p.orgId, userId: p.userId };
  const user = await withTenant(s.database, scope, (tx) => findUserById(tx, p.userId));
  if (!user || user.status !== 'active') throw authErrors.invalidCredentials();
  const { ok } = await s.passwords.verify(user.passwordHash, input.current_password);
  if (!ok) {
    await withSystem(s.database, async (tx) => {
      await recordFailure(tx, user.id);
      await writeAuthEvent(tx, { event: 'login_failed', orgId: p.orgId, userId: p.userId, client, details: { reason: 'wrong_password', stage: 'password_change' } });
    });
    throw authErrors.wrongPassword();
  }
  assertPasswordPolicy(input.new_password, user.email, 'new_password');
  if (input.new_password === input.current_password) {
    throw authErrors.weakPassword([{ path: 'new_password', message: 'must differ from the current password' }]);
  }
  const passwordHash = await s.passwords.hash(input.new_password);
  await withTenant(s.database, scope, async (tx) => {
    await tx.update(users).set({ passwordHash, passwordChangedAt: new Date() }).where(eq(users.id, user.id));
    await writeAuthEvent(tx, { event: 'password_changed', orgId: p.orgId, userId: p.userId, client });
  });
  await s.sessionStore.revokeAllForUser(scope, 'password_changed', p.sessionId);
  tokenStates.forget(p.userId);
}
