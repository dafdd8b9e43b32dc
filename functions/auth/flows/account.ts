import { inSystem, inTenant } from '../../shared/http/transactions.js';
import { sha256Hex } from '../../shared/security/hashing.js';
import { authErrors } from '../errors.js';
import { emailHashOf } from '../service/audit.js';
import { clientInfo } from '../service/client.js';
import { sendVerification } from '../service/email-verification.js';
import { assertPasswordPolicy } from '../service/policy.js';
import { createInvitedUser, findUsableInvitation, refuseInvitation, USERS_EMAIL_UNIQUE, type RegisterInput } from '../service/register.js';
import { findUserById, userView, type UserRow } from '../service/users.js';
import { limited, type AuthContext } from './support.js';

// Account flows. The Argon2 hash and the verification mail run between the short transactions, never
// inside one (docs/architecture.md, "Auth flows").

/**
 * `POST /register`: registration by invitation. The code (stored as SHA-256) names the organization
 * and role, is single use and expires; an invitation for an address admits only that address. Every
 * refusal that depends on the code or the address answers the same invalid-invitation problem,
 * including an address that already has an account (service/register.ts `refuseInvitation`). An
 * address the invitation was not sent to is unproven: it is mailed a verification link (awaited: a
 * function gets no CPU after its response, https://cloud.google.com/functions/docs/bestpractices/tips).
 */
export async function register(c: AuthContext, input: RegisterInput) {
  const s = c.var.services;
  const client = clientInfo(c);
  await limited(c, [[`register:ip:${client.ip}`, s.limits.registerIp]], { action: 'register', emailHash: emailHashOf(input.email) });
  const email = input.email.trim();
  assertPasswordPolicy(input.password, email);
  const codeHash = sha256Hex(input.invitation_code.trim());
  const invitation = await inSystem(c, (tx) => findUsableInvitation(tx, codeHash));
  const emailMatches = invitation?.email ? invitation.email.toLowerCase() === email.toLowerCase() : true;
  if (!invitation || !emailMatches) throw authErrors.invalidInvitation();

  const passwordHash = await s.passwords.hash(input.password);
  // The kernel maps the taken-address unique violation to this very problem, so it is told apart
  // from any other failure of the transaction by identity.
  const taken = authErrors.invalidInvitation();
  let user: UserRow;
  try {
    user = await inSystem(c, (tx) => createInvitedUser(tx, invitation, { email, name: input.name.trim(), passwordHash }, client), {
      actorId: invitation.createdBy,
      unique: { [USERS_EMAIL_UNIQUE]: () => taken },
    });
  } catch (err) {
    if (err !== taken) throw err;
    await inSystem(c, (tx) => refuseInvitation(tx, invitation, client));
    throw taken;
  }
  if (!user.emailVerifiedAt) await sendVerification(s.config.JWT_SECRETS, s.mailer, user, c.var.log);
  return userView(user);
}

/** `POST /email/verification`: (re)sends the caller's verification mail; a verified address gets none. */
export async function requestVerification(c: AuthContext): Promise<'sent' | 'already_verified'> {
  const user = await inTenant(c, (tx, t) => findUserById(tx, t.userId));
  if (!user) throw authErrors.invalidVerificationToken();
  if (user.emailVerifiedAt) return 'already_verified';
  await sendVerification(c.var.services.config.JWT_SECRETS, c.var.services.mailer, user, c.var.log);
  return 'sent';
}
