import { sql } from 'drizzle-orm';
import { users } from '../../../drizzle/schema/auth.js';
import { withSystem } from '../../shared/db/tenant.js';
import { signToken, TokenError, verifyToken } from '../../shared/security/tokens.js';
import { authErrors } from '../errors.js';
import type { AuthServices } from '../services.js';
import { emailHashOf, writeAuthEvent } from './audit.js';
import type { ClientInfo } from './client.js';
import { verifySecondFactor } from './mfa.js';
import { enforce } from './rate-limit.js';
import { startSession, type TokenPair } from './sessions.js';
import { clearFailures, findUserByEmail, findUserById, lockRemaining, recordFailure, type UserRow } from './users.js';

export const MFA_TOKEN_TTL_SECONDS = 5 * 60;

export type LoginResult = { tokens: TokenPair } | { mfa: { mfa_required: true; mfa_token: string } };

/**
 * Password sign-in. An unknown email and a wrong password take the same path length (a dummy
 * hash is verified) and answer the same 401. The lock answers 423 only to the right password, so
 * it cannot be used to learn which accounts exist or to confirm a guess. Every attempt is audited.
 */
export async function login(s: AuthServices, input: { email: string; password: string }, client: ClientInfo): Promise<LoginResult> {
  const emailHash = emailHashOf(input.email);
  await enforce(
    s.database,
    [
      [`login:ip:${client.ip}`, s.limits.loginIp],
      [`login:acct:${emailHash}`, s.limits.loginAccount],
    ],
    client,
    { action: 'login', emailHash },
  );
  const user = await findUserByEmail(s.database, input.email);
  if (!user) {
    await s.passwords.verifyDummy(input.password);
    await withSystem(s.database, (tx) => writeAuthEvent(tx, { event: 'login_failed', emailHash, client, details: { reason: 'unknown_email' } }));
    throw authErrors.invalidCredentials();
  }
  const { ok, needsRehash } = await s.passwords.verify(user.passwordHash, input.password);
  if (!ok) {
    await failAttempt(s, user, client, 'login_failed', { reason: 'wrong_password' });
    throw authErrors.invalidCredentials();
  }
  if (user.status !== 'active') {
    await audit(s, user, client, 'login_failed', { reason: 'disabled' });
    throw authErrors.disabled();
  }
  if (needsRehash) await rehash(s, user, input.password);

  if (user.totpEnabled) {
    // The failure count is cleared only when the second factor passes too.
    const wait = lockRemaining(user);
    if (wait > 0) {
      await audit(s, user, client, 'login_locked', {});
      throw authErrors.locked(wait);
    }
    await audit(s, user, client, 'login_succeeded', { stage: 'password', mfa_required: true });
    const mfaToken = await signToken(s.config.JWT_SECRETS, 'mfa', { org: user.orgId }, user.id, MFA_TOKEN_TTL_SECONDS);
    return { mfa: { mfa_required: true, mfa_token: mfaToken } };
  }
  return { tokens: await completeLogin(s, user, client, { method: 'password' }) };
}

/** `POST /login/mfa`: the second step, with a TOTP code or a recovery code. */
export async function loginMfa(s: AuthServices, input: { mfa_token: string; code: string }, client: ClientInfo): Promise<TokenPair> {
  let userId: string;
  let orgId: string;
  try {
    const payload = await verifyToken(s.config.JWT_SECRETS, input.mfa_token, 'mfa');
    if (typeof payload.sub !== 'string' || typeof payload.org !== 'string') throw new TokenError('malformed claims');
    userId = payload.sub;
    orgId = payload.org;
  } catch (err) {
    if (err instanceof TokenError) throw authErrors.invalidMfaToken();
    throw err;
  }
  await enforce(
    s.database,
    [
      [`mfa:ip:${client.ip}`, s.limits.mfaIp],
      [`mfa:user:${userId}`, s.limits.mfaAccount],
    ],
    client,
    { action: 'mfa', userId, orgId },
  );
  const user = await withSystem(s.database, (tx) => findUserById(tx, userId));
  if (!user || user.orgId !== orgId || user.status !== 'active' || !user.totpEnabled) throw authErrors.invalidMfaToken();
  const wait = lockRemaining(user);
  if (wait > 0) {
    await audit(s, user, client, 'login_locked', { stage: 'mfa' });
    throw authErrors.locked(wait);
  }
  const factor = await verifySecondFactor(s, user, input.code);
  if (!factor) {
    await failAttempt(s, user, client, 'mfa_failed', {});
    throw authErrors.invalidMfaCode(401);
  }
  await audit(s, user, client, factor === 'recovery' ? 'recovery_code_used' : 'mfa_succeeded', {});
  return completeLogin(s, user, client, { method: factor === 'recovery' ? 'recovery_code' : 'totp' });
}

async function completeLogin(s: AuthServices, user: UserRow, client: ClientInfo, details: Record<string, unknown>): Promise<TokenPair> {
  const wait = await withSystem(s.database, async (tx) => {
    const left = await clearFailures(tx, user.id, true);
    await writeAuthEvent(tx, { event: left > 0 ? 'login_locked' : 'login_succeeded', orgId: user.orgId, userId: user.id, client, details });
    return left;
  });
  if (wait > 0) throw authErrors.locked(wait);
  return startSession(s, user, client);
}

/** One failure: counted atomically, audited in the same transaction; the 10th also locks. */
async function failAttempt(s: AuthServices, user: UserRow, client: ClientInfo, event: 'login_failed' | 'mfa_failed', details: Record<string, unknown>) {
  await withSystem(s.database, async (tx) => {
    const { counted, lockedNow, attempts } = await recordFailure(tx, user.id);
    const base = { orgId: user.orgId, userId: user.id, emailHash: emailHashOf(user.email), client };
    await writeAuthEvent(tx, { ...base, event, details: { ...details, attempts, counted } });
    if (lockedNow) await writeAuthEvent(tx, { ...base, event: 'account_locked', details: { attempts } });
  });
}

async function audit(s: AuthServices, user: UserRow, client: ClientInfo, event: Parameters<typeof writeAuthEvent>[1]['event'], details: Record<string, unknown>) {
  await withSystem(s.database, (tx) => writeAuthEvent(tx, { event, orgId: user.orgId, userId: user.id, emailHash: emailHashOf(user.email), client, details }));
}

/** Parameters changed since this hash was made: store one with the current parameters. */
async function rehash(s: AuthServices, user: UserRow, password: string): Promise<void> {
  const fresh = await s.passwords.hash(password);
  await withSystem(s.database, (tx) =>
    tx.update(users).set({ passwordHash: fresh }).where(sql`${users.id} = ${user.id} and ${users.passwordHash} = ${user.passwordHash}`),
  );
}
