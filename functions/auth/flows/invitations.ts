import { inSystem, inTenant, tenantOf } from '../../shared/http/transactions.js';
import type { UserRole } from '../../../drizzle/schema/auth.js';
import { authErrors } from '../errors.js';
import { clientInfo } from '../service/client.js';
import { invitationView, newInvitationCode, ORGANIZATIONS_SLUG_UNIQUE, storeInvitation, storeOrganization } from '../service/invitations.js';
import { sendLogged } from '../service/mailer.js';
import type { AuthContext } from './support.js';

/**
 * `POST /invitations`: an invitation into the caller's organization; the code is returned here only.
 * An invitation for an address is mailed to it after the transaction commits (awaited: a function gets
 * no CPU after its response); the admin gets the code either way, and `mailed` says whether the mail
 * went out.
 */
export async function createInvitation(c: AuthContext, input: { email?: string; role: Exclude<UserRole, 'owner'> }) {
  const code = newInvitationCode();
  const { row, organization } = await inTenant(c, (tx, t) => storeInvitation(tx, t, input, code, clientInfo(c)));
  const mailed = row.email
    ? await sendLogged(c.var.services.mailer.sendInvitation({ to: row.email, code, expiresAt: row.expiresAt, organization, role: row.role }), c.var.log, 'invitation', row.email)
    : false;
  return { ...invitationView(row), invitation_code: code, mailed };
}

/** `POST /organizations`: platform administrators only (the token's flag here, the database's in the transaction). */
export async function createOrganization(c: AuthContext, input: { name: string; slug?: string }) {
  const p = c.var.principal;
  if (!p.platformAdmin) throw authErrors.notPlatformAdmin();
  return inSystem(c, (tx) => storeOrganization(tx, tenantOf(p), input, clientInfo(c)), {
    actorId: p.userId,
    unique: { [ORGANIZATIONS_SLUG_UNIQUE]: authErrors.slugTaken },
  });
}
