import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { invitations, users, type UserRole } from '../../../drizzle/schema/auth.js';
import { organizations } from '../../../drizzle/schema/projects.js';
import { withSystem, withTenant } from '../../shared/db/tenant.js';
import { decodeCursor, page } from '../../shared/http/pagination.js';
import { problems } from '../../shared/http/problem.js';
import { randomToken, sha256Hex } from '../../shared/security/hashing.js';
import { slugify } from '../../shared/slug.js';
import type { Principal } from '../../shared/security/tokens.js';
import { isUniqueViolation } from '../../shared/db/errors.js';
import { authErrors } from '../errors.js';
import type { AuthServices } from '../services.js';
import type { Logger } from '../../shared/http/logger.js';
import { writeAuthEvent } from './audit.js';
import type { ClientInfo } from './client.js';
import { sendLogged } from './mailer.js';

export const INVITATION_VALID_DAYS = 7;

/** An invitation code is shown once; only its SHA-256 is stored. */
export const newInvitationCode = () => `inv_${randomToken(24)}`;

type InvitationRow = typeof invitations.$inferSelect;

const statusOf = (r: InvitationRow, now = Date.now()): 'used' | 'revoked' | 'expired' | 'pending' =>
  r.usedAt ? 'used' : r.revokedAt ? 'revoked' : r.expiresAt.getTime() <= now ? 'expired' : 'pending';

export const invitationView = (r: InvitationRow) => ({
  id: r.id,
  email: r.email,
  role: r.role,
  status: statusOf(r),
  expires_at: r.expiresAt.toISOString(),
  used_at: r.usedAt?.toISOString() ?? null,
  revoked_at: r.revokedAt?.toISOString() ?? null,
  created_at: r.createdAt.toISOString(),
});

const expiry = () => new Date(Date.now() + INVITATION_VALID_DAYS * 86_400_000);

/** An invitation into the caller's organization; the code is returned here only, stored as SHA-256. */
export async function createInvitation(
  s: AuthServices,
  p: Principal,
  input: { email?: string; role: Exclude<UserRole, 'owner'> },
  client: ClientInfo,
  log: Pick<Logger, 'error'>,
) {
  const code = newInvitationCode();
  const { row, organization } = await withTenant(s.database, { orgId: p.orgId, userId: p.userId }, async (tx) => {
    const [created] = await tx
      .insert(invitations)
      .values({ orgId: p.orgId, codeHash: sha256Hex(code), email: input.email?.trim() ?? null, role: input.role, expiresAt: expiry(), createdBy: p.userId, updatedBy: p.userId })
      .returning();
    await writeAuthEvent(tx, { event: 'invitation_created', orgId: p.orgId, userId: p.userId, client, details: { invitation_id: created!.id, role: input.role } });
    const [org] = await tx.select({ name: organizations.name }).from(organizations).where(eq(organizations.id, p.orgId)).limit(1);
    return { row: created!, organization: org?.name ?? 'your organization' };
  });
  // An invitation for an address is mailed to it (awaited: a function gets no CPU after its response).
  // The admin gets the code either way, and `mailed` says whether the mail went out.
  const mailed = row.email
    ? await sendLogged(s.mailer.sendInvitation({ to: row.email, code, expiresAt: row.expiresAt, organization, role: row.role }), log, 'invitation', row.email)
    : false;
  return { ...invitationView(row), invitation_code: code, mailed };
}

export async function listInvitations(s: AuthServices, p: Principal, q: { limit: number; cursor?: string }) {
  const after = decodeCursor(q.cursor, ['timestamp', 'uuid']);
  const rows = await withTenant(s.database, { orgId: p.orgId, userId: p.userId }, (tx) =>
    tx
      .select({ row: invitations, cursorAt: sql<string>`${invitations.createdAt}::text` })
      .from(invitations)
      .where(
        and(
          eq(invitations.orgId, p.orgId),
          after ? sql`(${invitations.createdAt}, ${invitations.id}) < (${String(after[0])}::timestamptz, ${String(after[1])}::uuid)` : undefined,
        ),
      )
      .orderBy(desc(invitations.createdAt), desc(invitations.id))
      .limit(q.limit + 1),
  );
  const keys = new Map(rows.map((r) => [r.row.id, r.cursorAt]));
  return page(rows.map((r) => invitationView(r.row)), q.limit, (v) => [keys.get(v.id)!, v.id]);
}

/** Revokes a pending invitation of the caller's org; another org's answers 404 (RLS hides it). */
export async function revokeInvitation(s: AuthServices, p: Principal, id: string, client: ClientInfo): Promise<void> {
  await withTenant(s.database, { orgId: p.orgId, userId: p.userId }, async (tx) => {
    const revoked = await tx
      .update(invitations)
      .set({ revokedAt: new Date(), updatedBy: p.userId })
      .where(and(eq(invitations.id, id), isNull(invitations.usedAt), isNull(invitations.revokedAt)))
      .returning({ id: invitations.id });
    if (!revoked.length) {
      const [exists] = await tx.select({ id: invitations.id }).from(invitations).where(eq(invitations.id, id));
      throw exists ? authErrors.invitationNotPending() : problems.notFound('invitation');
    }
    await writeAuthEvent(tx, { event: 'invitation_revoked', orgId: p.orgId, userId: p.userId, client, details: { invitation_id: id } });
  });
}

/**
 * Platform administrators create organizations; the answer carries the owner's invitation code.
 * The platform-admin flag is read from the database, not only the token, so a revoked admin
 * cannot use a token issued before the change.
 */
export async function createOrganization(s: AuthServices, p: Principal, input: { name: string; slug?: string }, client: ClientInfo) {
  if (!p.platformAdmin) throw authErrors.notPlatformAdmin();
  const code = newInvitationCode();
  try {
    return await withSystem(
      s.database,
      async (tx) => {
        const [me] = await tx.select({ pa: users.isPlatformAdmin }).from(users).where(and(eq(users.id, p.userId), isNull(users.deletedAt)));
        if (!me?.pa) throw authErrors.notPlatformAdmin();
        const slug = input.slug ?? `${slugify(input.name, 'org')}-${sha256Hex(code).slice(0, 6)}`;
        const [org] = await tx.insert(organizations).values({ name: input.name.trim(), slug, createdBy: p.userId, updatedBy: p.userId }).returning();
        const [invitation] = await tx
          .insert(invitations)
          .values({ orgId: org!.id, codeHash: sha256Hex(code), role: 'owner', expiresAt: expiry(), createdBy: p.userId, updatedBy: p.userId })
          .returning();
        await writeAuthEvent(tx, {
          event: 'invitation_created',
          orgId: p.orgId,
          userId: p.userId,
          client,
          details: { invitation_id: invitation!.id, role: 'owner', organization_id: org!.id },
        });
        return {
          organization: { id: org!.id, name: org!.name, slug: org!.slug, created_at: org!.createdAt.toISOString() },
          invitation_code: code,
          invitation: invitationView(invitation!),
        };
      },
      p.userId,
    );
  } catch (err) {
    if (isUniqueViolation(err, 'organizations_slug_uq')) throw authErrors.slugTaken();
    throw err;
  }
}
