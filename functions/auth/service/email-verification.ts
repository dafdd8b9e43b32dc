import { and, eq, isNull } from 'drizzle-orm';
import { users } from '../../../drizzle/schema/auth.js';
import type { Tx } from '../../shared/db/database.js';
import type { Logger } from '../../shared/http/logger.js';
import { signToken, TokenError, verifyToken, type SigningKey } from '../../shared/security/tokens.js';
import { authErrors } from '../errors.js';
import { emailHashOf } from './audit.js';
import type { Mailer } from './mailer.js';
import { sendLogged } from './mailer.js';
import { findUserById } from './users.js';

export const VERIFICATION_TTL_HOURS = 24;

/**
 * Verification of a user's address (auth.users.email_verified_at). The token is signed (JWT_SECRETS,
 * typ `email-verification`, so it can never pass for an access or MFA token) and names the user and the
 * hash of the address it was sent to; it is single use because spending it is a conditional UPDATE that
 * only succeeds while the address is unverified and unchanged. Nothing is stored until it is spent.
 * Sending holds no transaction (the mail relay is slow).
 */
export async function sendVerification(
  keys: SigningKey[],
  mailer: Mailer,
  user: { id: string; orgId: string; email: string },
  log: Pick<Logger, 'error'>,
): Promise<boolean> {
  const expiresAt = new Date(Date.now() + VERIFICATION_TTL_HOURS * 3_600_000);
  const token = await signToken(keys, 'email-verification', { org: user.orgId, eh: emailHashOf(user.email) }, user.id, VERIFICATION_TTL_HOURS * 3600);
  return sendLogged(mailer.sendEmailVerification({ to: user.email, token, expiresAt }), log, 'email verification', user.email);
}

export interface VerificationClaims {
  userId: string;
  emailHash: string;
}

/** Whom a verification token names, and the hash of the address it was sent to; invalid-verification-token otherwise. */
export async function verificationClaims(keys: SigningKey[], token: string): Promise<VerificationClaims> {
  let payload;
  try {
    payload = await verifyToken(keys, token.trim(), 'email-verification');
  } catch (err) {
    if (err instanceof TokenError || (err as Error)?.name?.startsWith('JW')) throw authErrors.invalidVerificationToken();
    throw err;
  }
  if (typeof payload.sub !== 'string' || typeof payload.eh !== 'string') throw authErrors.invalidVerificationToken();
  return { userId: payload.sub, emailHash: payload.eh };
}

/** System transaction (the token, not a session, names the user): marks the address verified, once. */
export async function markEmailVerified(tx: Tx, claims: VerificationClaims): Promise<{ email_verified_at: string }> {
  const user = await findUserById(tx, claims.userId);
  if (!user || user.emailVerifiedAt || emailHashOf(user.email) !== claims.emailHash) throw authErrors.invalidVerificationToken();
  const [done] = await tx
    .update(users)
    .set({ emailVerifiedAt: new Date() })
    .where(and(eq(users.id, claims.userId), isNull(users.emailVerifiedAt), eq(users.email, user.email)))
    .returning({ at: users.emailVerifiedAt });
  if (!done?.at) throw authErrors.invalidVerificationToken();
  return { email_verified_at: done.at.toISOString() };
}
