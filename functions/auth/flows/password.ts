import { inSystem, inTenant, tenantOf } from '../../shared/http/transactions.js';
import { randomToken, sha256Hex } from '../../shared/security/hashing.js';
import { tokenStates } from '../../shared/security/revocation.js';
import { authErrors } from '../errors.js';
import { emailHashOf } from '../service/audit.js';
import { clientInfo } from '../service/client.js';
import { sendLogged } from '../service/mailer.js';
import { findPendingReset, recordWrongCurrentPassword, RESET_TTL_MINUTES, spendReset, storeNewPassword, storeResetToken } from '../service/password.js';
import { assertPasswordPolicy } from '../service/policy.js';
import { activeUser, findUserByEmail } from '../service/users.js';
import { limited, type AuthContext } from './support.js';

// Password flows. Argon2 hashing and verification, the reset mail and the session store run between
// the short transactions, never inside one (docs/architecture.md, "Auth flows").

/**
 * `POST /password/forgot`: issues a single-use reset token (stored as SHA-256, valid 30 minutes) and
 * mails it. The send is awaited — a Cloud Run function gets no CPU after its response, so mail sent
 * in the background may never leave (https://cloud.google.com/functions/docs/bestpractices/tips, "do
 * not start background activities") — and every answer, account or not, waits the same floor
 * (forgotAnswerFloorMs, started on arrival), so the answer time does not say whether the address
 * exists unless the relay is slower than the floor. A failed send is logged (without the token).
 */
export async function forgotPassword(c: AuthContext, email: string): Promise<void> {
  const s = c.var.services;
  const floor = new Promise<void>((resolve) => setTimeout(resolve, s.forgotAnswerFloorMs));
  const client = clientInfo(c);
  const emailHash = emailHashOf(email);
  const user = await limited(
    c,
    [
      [`forgot:ip:${client.ip}`, s.limits.forgotIp],
      [`forgot:acct:${emailHash}`, s.limits.forgotAccount],
    ],
    { action: 'password reset', emailHash },
    (tx) => findUserByEmail(tx, email),
  );
  if (!user || user.status !== 'active') return floor;
  const token = randomToken(32);
  const expiresAt = new Date(Date.now() + RESET_TTL_MINUTES * 60_000);
  await inSystem(c, (tx) => storeResetToken(tx, user, { tokenHash: sha256Hex(token), expiresAt, emailHash }, client));
  await Promise.all([sendLogged(s.mailer.sendPasswordReset({ to: user.email, token, expiresAt }), c.var.log, 'password reset', user.email), floor]);
}

/**
 * `POST /password/reset`: sets a new password with a reset token (spent atomically), and ends every
 * session and access token of the user.
 */
export async function resetPassword(c: AuthContext, input: { token: string; new_password: string; disable_totp?: boolean }): Promise<void> {
  const s = c.var.services;
  const tokenHash = sha256Hex(input.token.trim());
  const pending = await inSystem(c, (tx) => findPendingReset(tx, tokenHash));
  if (!pending) throw authErrors.invalidResetToken();
  assertPasswordPolicy(input.new_password, pending.email, 'new_password');
  const passwordHash = await s.passwords.hash(input.new_password);
  await inSystem(c, (tx) => spendReset(tx, pending, { tokenHash, passwordHash, disableTotp: input.disable_totp === true }, clientInfo(c)), {
    actorId: pending.userId,
  });
  await s.sessionStore.revokeAllForUser({ userId: pending.userId, orgId: pending.orgId }, 'password_reset');
  // The password_hash update moved token_version (trigger); this instance forgets its cached state now.
  tokenStates.forget(pending.userId);
}

/** `POST /password/change`: the current password is required; every other session is revoked. */
export async function changePassword(c: AuthContext, input: { current_password: string; new_password: string }): Promise<void> {
  const s = c.var.services;
  const p = c.var.principal;
  const t = tenantOf(p);
  const client = clientInfo(c);
  await limited(c, [[`pwchange:user:${p.userId}`, s.limits.loginAccount]], { action: 'password change', userId: p.userId, orgId: p.orgId });
  const user = await inTenant(c, (tx, tenant) => activeUser(tx, tenant));
  if (!user) throw authErrors.invalidCredentials();
  const { ok } = await s.passwords.verify(user.passwordHash, input.current_password);
  if (!ok) {
    await inSystem(c, (tx) => recordWrongCurrentPassword(tx, t, client));
    throw authErrors.wrongPassword();
  }
  assertPasswordPolicy(input.new_password, user.email, 'new_password');
  if (input.new_password === input.current_password) {
    throw authErrors.weakPassword([{ path: 'new_password', message: 'must differ from the current password' }]);
  }
  const passwordHash = await s.passwords.hash(input.new_password);
  await inTenant(c, (tx, tenant) => storeNewPassword(tx, tenant, passwordHash, client));
  await s.sessionStore.revokeAllForUser({ orgId: p.orgId, userId: p.userId }, 'password_changed', p.sessionId);
  tokenStates.forget(p.userId);
}
