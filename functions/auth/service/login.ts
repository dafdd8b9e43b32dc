import { sql } from 'drizzle-orm';
import { users } from '../../../drizzle/schema/auth.js';
import type { Tx } from '../../shared/db/database.js';
import { signToken, TokenError, verifyToken, type SigningKey } from '../../shared/security/tokens.js';
import { authErrors } from '../errors.js';
import { emailHashOf, writeAuthEvent } from './audit.js';
import type { ClientInfo } from './client.js';
import { clearFailures, recordFailure, type UserRow } from './users.js';

// The transactional steps of sign-in (system transactions: the tenant is not known yet). The
// sequence, with the password check between transactions, is flows/login.ts.

export const MFA_TOKEN_TTL_SECONDS = 5 * 60;

type AuthEvent = Parameters<typeof writeAuthEvent>[1]['event'];

/** An attempt on an address with no account (it has no user or organization to name). */
export async function auditUnknownEmail(tx: Tx, emailHash: string, client: ClientInfo): Promise<void> {
  await writeAuthEvent(tx, { event: 'login_failed', emailHash, client, details: { reason: 'unknown_email' } });
}

/** One sign-in event of a known account. */
export async function auditLogin(tx: Tx, user: UserRow, client: ClientInfo, event: AuthEvent, details: Record<string, unknown>): Promise<void> {
  await writeAuthEvent(tx, { event, orgId: user.orgId, userId: user.id, emailHash: emailHashOf(user.email), client, details });
}

/** One failure: counted atomically, audited in the same transaction; the 10th also locks. */
export async function recordFailedAttempt(
  tx: Tx,
  user: UserRow,
  client: ClientInfo,
  event: 'login_failed' | 'mfa_failed',
  details: Record<string, unknown>,
): Promise<void> {
  const { counted, lockedNow, attempts } = await recordFailure(tx, user.id);
  const base = { orgId: user.orgId, userId: user.id, emailHash: emailHashOf(user.email), client };
  await writeAuthEvent(tx, { ...base, event, details: { ...details, attempts, counted } });
  if (lockedNow) await writeAuthEvent(tx, { ...base, event: 'account_locked', details: { attempts } });
}

/**
 * Every factor passed: clears the failure count unless the account is locked, audited either way.
 * Returns the seconds of lock left (the caller answers 423), or 0 (the caller starts the session).
 */
export async function completeLogin(tx: Tx, user: UserRow, client: ClientInfo, details: Record<string, unknown>): Promise<number> {
  const left = await clearFailures(tx, user.id, true);
  await writeAuthEvent(tx, { event: left > 0 ? 'login_locked' : 'login_succeeded', orgId: user.orgId, userId: user.id, client, details });
  return left;
}

/** Parameters changed since this hash was made: store `fresh` (made with the current ones) unless the hash moved meanwhile. */
export async function storeRehash(tx: Tx, user: UserRow, fresh: string): Promise<void> {
  await tx.update(users).set({ passwordHash: fresh }).where(sql`${users.id} = ${user.id} and ${users.passwordHash} = ${user.passwordHash}`);
}

/** The short-lived token that carries a password-verified login to its second step. */
export const mfaTokenFor = (keys: SigningKey[], user: UserRow) => signToken(keys, 'mfa', { org: user.orgId }, user.id, MFA_TOKEN_TTL_SECONDS);

/** Whom an MFA token names; invalid-mfa-token when it is not one of ours, or expired. */
export async function mfaTokenClaims(keys: SigningKey[], token: string): Promise<{ userId: string; orgId: string }> {
  try {
    const payload = await verifyToken(keys, token, 'mfa');
    if (typeof payload.sub !== 'string' || typeof payload.org !== 'string') throw new TokenError('malformed claims');
    return { userId: payload.sub, orgId: payload.org };
  } catch (err) {
    if (err instanceof TokenError) throw authErrors.invalidMfaToken();
    throw err;
  }
}
