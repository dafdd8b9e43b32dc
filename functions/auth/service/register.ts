import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { invitations, users } from '../../../drizzle/schema/auth.js';
import { withSystem } from '../../shared/db/tenant.js';
import { sha256Hex } from '../../shared/security/hashing.js';
import { isUniqueViolation } from '../../shared/db/errors.js';
import { authErrors } from '../errors.js';
import type { AuthServices } from '../services.js';
import { emailHashOf, writeAuthEvent } from './audit.js';
import type { ClientInfo } from './client.js';
import { assertPasswordPolicy } from './policy.js';
import { enforce } from './rate-limit.js';
import { userView } from './users.js';

export interface RegisterInput {
  invitation_code: string;
  email: string;
  password: string;
  name: string;
}

const usable = () => and(isNull(invitations.usedAt), isNull(invitations.revokedAt), gt(invitations.expiresAt, sql`now()`));

/**
 * Registration by invitation: the code (stored as SHA-256) names the organization and role, is
 * single use and expires; an invitation for an address admits only that address. Every refusal that
 * depends on the code or the address answers the same invalid-invitation problem. The invitation
 * is consumed in the same transaction that creates the user, with a conditional UPDATE, so two
 * registrations with one code cannot both succeed.
 */
export async function register(s: AuthServices, input: RegisterInput, client: ClientInfo) {
  await enforce(s.database, [[`register:ip:${client.ip}`, s.limits.registerIp]], client, { action: 'register', emailHash: emailHashOf(input.email) });
  const email = input.email.trim();
  assertPasswordPolicy(input.password, email);
  const codeHash = sha256Hex(input.invitation_code.trim());
  const [invitation] = await withSystem(s.database, (tx) =>
    tx.select().from(invitations).where(and(eq(invitations.codeHash, codeHash), usable())).limit(1),
  );
  const emailMatches = invitation?.email ? invitation.email.toLowerCase() === email.toLowerCase() : true;
  if (!invitation || !emailMatches) throw authErrors.invalidInvitation();

  const passwordHash = await s.passwords.hash(input.password);
  try {
    const user = await withSystem(s.database, async (tx) => {
      const [created] = await tx
        .insert(users)
        .values({
          orgId: invitation.orgId,
          email,
          name: input.name.trim(),
          role: invitation.role,
          isPlatformAdmin: invitation.grantsPlatformAdmin,
          passwordHash,
          passwordChangedAt: new Date(),
          // An invitation sent to this address proves it reached its owner.
          emailVerifiedAt: invitation.email ? new Date() : null,
          createdBy: invitation.createdBy,
        })
        .returning();
      const consumed = await tx
        .update(invitations)
        .set({ usedAt: new Date(), usedBy: created!.id })
        .where(and(eq(invitations.id, invitation.id), usable()))
        .returning({ id: invitations.id });
      if (consumed.length !== 1) throw authErrors.invalidInvitation();
      await writeAuthEvent(tx, {
        event: 'registered',
        orgId: created!.orgId,
        userId: created!.id,
        emailHash: emailHashOf(email),
        client,
        details: { invitation_id: invitation.id, role: created!.role, platform_admin: created!.isPlatformAdmin },
      });
      return created!;
    }, invitation.createdBy);
    return userView(user);
  } catch (err) {
    if (!isUniqueViolation(err, 'users_email_lower_uq')) throw err;
    // The address belongs to an account, maybe in another organization. Saying so would let whoever
    // holds a code (an org admin mints them) test which emails exist platform-wide, one code for any
    // number of tries: the answer is the invalid-code refusal, and the code is spent, so each probe
    // costs an audited invitation.
    await withSystem(s.database, async (tx) => {
      await tx.update(invitations).set({ revokedAt: new Date() }).where(and(eq(invitations.id, invitation.id), usable()));
      await writeAuthEvent(tx, { event: 'invitation_revoked', orgId: invitation.orgId, client, details: { invitation_id: invitation.id, reason: 'registration_refused' } });
    });
    throw authErrors.invalidInvitation();
  }
}
