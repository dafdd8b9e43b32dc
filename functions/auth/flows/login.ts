import { inSystem } from '../../shared/http/transactions.js';
import { authErrors } from '../errors.js';
import { emailHashOf } from '../service/audit.js';
import { clientInfo, type ClientInfo } from '../service/client.js';
import { auditLogin, auditUnknownEmail, completeLogin, mfaTokenClaims, mfaTokenFor, recordFailedAttempt, storeRehash } from '../service/login.js';
import { startSession, type TokenPair } from '../service/sessions.js';
import { findUserByEmail, findUserById, lockRemaining, type UserRow } from '../service/users.js';
import { secondFactor } from './mfa.js';
import { limited, type AuthContext } from './support.js';

/*
 * Sign-in as a sequence of short transactions, never one long one: Argon2 (100+ ms, bounded
 * concurrency) and the session store write must not run while a pooled PostgreSQL connection is held.
 *
 *   [rate limits + user by email]  system tx (flows/support.ts `limited`)
 *   [verify the password]          no transaction
 *   [count a failure | audit]      system tx
 *   [clear failures + audit]       system tx   (completeLogin)
 *   [create the session]           session store, no transaction
 *
 * An unknown email and a wrong password take the same path length (a dummy hash is verified and one
 * audit transaction follows either way) and answer the same 401. The lock answers 423 only to the
 * right password, so it cannot be used to learn which accounts exist or to confirm a guess. Every
 * attempt is audited.
 */

export type LoginResult = { tokens: TokenPair } | { mfa: { mfa_required: true; mfa_token: string } };

/** `POST /login`: password sign-in. */
export async function login(c: AuthContext, input: { email: string; password: string }): Promise<LoginResult> {
  const s = c.var.services;
  const client = clientInfo(c);
  const emailHash = emailHashOf(input.email);
  const user = await limited(
    c,
    [
      [`login:ip:${client.ip}`, s.limits.loginIp],
      [`login:acct:${emailHash}`, s.limits.loginAccount],
    ],
    { action: 'login', emailHash },
    (tx) => findUserByEmail(tx, input.email),
  );
  if (!user) {
    await s.passwords.verifyDummy(input.password);
    await inSystem(c, (tx) => auditUnknownEmail(tx, emailHash, client));
    throw authErrors.invalidCredentials();
  }
  const { ok, needsRehash } = await s.passwords.verify(user.passwordHash, input.password);
  if (!ok) {
    await inSystem(c, (tx) => recordFailedAttempt(tx, user, client, 'login_failed', { reason: 'wrong_password' }));
    throw authErrors.invalidCredentials();
  }
  if (user.status !== 'active') {
    await inSystem(c, (tx) => auditLogin(tx, user, client, 'login_failed', { reason: 'disabled' }));
    throw authErrors.disabled();
  }
  if (needsRehash) {
    const fresh = await s.passwords.hash(input.password);
    await inSystem(c, (tx) => storeRehash(tx, user, fresh));
  }

  if (user.totpEnabled) {
    // The failure count is cleared only when the second factor passes too.
    const wait = lockRemaining(user);
    if (wait > 0) {
      await inSystem(c, (tx) => auditLogin(tx, user, client, 'login_locked', {}));
      throw authErrors.locked(wait);
    }
    await inSystem(c, (tx) => auditLogin(tx, user, client, 'login_succeeded', { stage: 'password', mfa_required: true }));
    return { mfa: { mfa_required: true, mfa_token: await mfaTokenFor(s.config.JWT_SECRETS, user) } };
  }
  return { tokens: await finishLogin(c, user, client, { method: 'password' }) };
}

/** `POST /login/mfa`: the second step, with a TOTP code or a recovery code. */
export async function loginMfa(c: AuthContext, input: { mfa_token: string; code: string }): Promise<TokenPair> {
  const s = c.var.services;
  const client = clientInfo(c);
  const { userId, orgId } = await mfaTokenClaims(s.config.JWT_SECRETS, input.mfa_token);
  const user = await limited(
    c,
    [
      [`mfa:ip:${client.ip}`, s.limits.mfaIp],
      [`mfa:user:${userId}`, s.limits.mfaAccount],
    ],
    { action: 'mfa', userId, orgId },
    (tx) => findUserById(tx, userId),
  );
  if (!user || user.orgId !== orgId || user.status !== 'active' || !user.totpEnabled) throw authErrors.invalidMfaToken();
  const wait = lockRemaining(user);
  if (wait > 0) {
    await inSystem(c, (tx) => auditLogin(tx, user, client, 'login_locked', { stage: 'mfa' }));
    throw authErrors.locked(wait);
  }
  const factor = await secondFactor(c, user, input.code);
  if (!factor) {
    await inSystem(c, (tx) => recordFailedAttempt(tx, user, client, 'mfa_failed', {}));
    throw authErrors.invalidMfaCode(401);
  }
  await inSystem(c, (tx) => auditLogin(tx, user, client, factor === 'recovery' ? 'recovery_code_used' : 'mfa_succeeded', {}));
  return finishLogin(c, user, client, { method: factor === 'recovery' ? 'recovery_code' : 'totp' });
}

async function finishLogin(c: AuthContext, user: UserRow, client: ClientInfo, details: Record<string, unknown>): Promise<TokenPair> {
  const wait = await inSystem(c, (tx) => completeLogin(tx, user, client, details));
  if (wait > 0) throw authErrors.locked(wait);
  return startSession(c.var.services.sessionStore, c.var.services.config.JWT_SECRETS, user, client);
}
