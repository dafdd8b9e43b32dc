import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { invitations, users } from '../../../drizzle/schema/auth.js';
import type { Tx } from '../../shared/db/database.js';
import { authErrors } from '../errors.js';
import { emailHashOf, writeAuthEvent } from './audit.js';
import type { ClientInfo } from './client.js';
import type { UserRow } from './users.js';

// The transactional steps of registration by invitation (flows/account.ts sequences them around the
// password hash): all system transactions, since the caller has no tenant yet.

export interface RegisterInput {
  invitation_code: string;
  email: string;
  password: string;
  name: string;
}

export type InvitationRow = typeof invitations.$inferSelect;

/** The unique key a second account for one address breaks (case-insensitive). */
export const USERS_EMAIL_UNIQUE = 'users_email_lower_uq';

const usable = () => and(isNull(invitations.usedAt), isNull(invitations.revokedAt), gt(invitations.expiresAt, sql`now()`));

/** The unused, unrevoked, unexpired invitation a code hash names. */
export async function findUsableInvitation(tx: Tx, codeHash: string): Promise<InvitationRow | undefined> {
  const [invitation] = await tx.select().from(invitations).where(and(eq(invitations.codeHash, codeHash), usable())).limit(1);
  return invitation;
}

/**
 * Creates the user the invitation admits and consumes the invitation in the same transaction, with a
 * conditional UPDATE, so two registrations with one code cannot both succeed (the second answers
 * invalid-invitation). An address already taken fails on USERS_EMAIL_UNIQUE.
 */
export async function createInvitedUser(
  tx: Tx,
  invitation: InvitationRow,
  input: { email: string; name: string; passwordHash: string },
  client: ClientInfo,
): Promise<UserRow> {
  const [created] = await tx
    .insert(users)
    .values({
      orgId: invitation.orgId,
      email: input.email,
      name: input.name,
      role: invitation.role,
      isPlatformAdmin: invitation.grantsPlatformAdmin,
      passwordHash: input.passwordHash,
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
    emailHash: emailHashOf(input.email),
    client,
    details: { invitation_id: invitation.id, role: created!.role, platform_admin: created!.isPlatformAdmin },
  });
  return created!;
}

/**
 * The address belongs to an account, maybe in another organization. Saying so would let whoever
 * holds a code (an org admin mints them) test which emails exist platform-wide, one code for any
 * number of tries: the answer is the invalid-code refusal, and the code is spent here, so each probe
 * costs an audited invitation.
 */
export async function refuseInvitation(tx: Tx, invitation: InvitationRow, client: ClientInfo): Promise<void> {
  await tx.update(invitations).set({ revokedAt: new Date() }).where(and(eq(invitations.id, invitation.id), usable()));
  await writeAuthEvent(tx, { event: 'invitation_revoked', orgId: invitation.orgId, client, details: { invitation_id: invitation.id, reason: 'registration_refused' } });
}
