import { and, eq, isNull } from 'drizzle-orm';
import { users } from '../../../drizzle/schema/auth.js';
import { withSystem, withTenant } from '../../shared/db/tenant.js';
import type { Logger } from '../../shared/http/logger.js';
import { signToken, TokenError, verifyToken, type Principal } from '../../shared/security/tokens.js';
import { authErrors } from '../errors.js';
import type { AuthServices } from '../services.js';
import { emailHashOf } from './audit.js';
import { sendLogged } from './mailer.js';
import { findUserById } from './users.js';

export const VERIFICATION_TTL_HOURS = 24;

/**
 * Verification of a user's address (auth.users.email_verified_at). The token is signed (JWT_SECRETS,
 * typ `email-verification`, so it can never pass for an access or MFA token) and names the user and the
 * hash of the address it was sent to; it is single use because spending it is a conditional UPDATE that
 * only succeeds while the address is unverified and unchanged. Nothing is stored until it is spent.
 */
export async function sendVerification(s: AuthServices, user: { id: string; orgId: string; email: string }, log: Pick<Logger, 'error'>): Promise<boolean> {
  const expiresAt = new Date(Date.now() + VERIFICATION_TTL_HOURS * 3_600_000);
  const token = await signToken(s.config.JWT_SECRETS, 'email-verification', { org: user.orgId, eh: emailHashOf(user.email) }, user.id, VERIFICATION_TTL_HOURS * 3600);
  return sendLogged(s.mailer.sendEmailVerification({ to: user.email, token, expiresAt }), log, 'email verification', user.email);
}

/** POST /email/verification: (re)sends the caller's verification mail; a verified address gets none. */
export async function requestVerification(s: AuthServices, p: Principal, log: Pick<Logger, 'error'>): Promise<'sent' | 'already_verified'> {
  const user = await withTenant(s.database, { orgId: p.orgId, userId: p.userId }, (tx) => findUserById(tx, p.userId));
  if (!user) throw authErrors.invalidVerificationToken();
  if (user.emailVerifiedAt) return 'already_verified';
  await sendVerification(s, user, log);
  return 'sent';
}

/** POST /email/verify {token}: marks the address verified, once. */
export async function verifyEmail(s: AuthServices, token: string): Promise<{ email_verified_at: string }> {
  let payload;
  try {
    payload = await verifyToken(s.config.JWT_SECRETS, token.trim(), 'email-verification');
  } catch (err) {
    if (err instanceof TokenError || (err as Error)?.name?.startsWith('JW')) throw authErrors.invalidVerificationToken();
    throw err;
  }
  if (typeof payload.sub !== 'string' || typeof payload.eh !== 'string') throw authErrors.invalidVerificationToken();
  const userId = payload.sub;
  const emailHash = payload.eh;
  const verifiedAt = await withSystem(s.database, async (tx) => {
    const user = await findUserById(tx, userId);
    if (!user || user.emailVerifiedAt || emailHashOf(user.email) !== emailHash) return undefined;
    const [done] = await tx
      .update(users)
      .set({ emailVerifiedAt: new Date() })
      .where(and(eq(users.id, userId), isNull(users.emailVerifiedAt), eq(users.email, user.email)))
      .returning({ at: users.emailVerifiedAt });
    return done?.at ?? undefined;
  });
  if (!verifiedAt) throw authErrors.invalidVerificationToken();
  return { email_verified_at: verifiedAt.toISOString() };
}
