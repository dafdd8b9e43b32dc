import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { invitations, users, type UserRole } from '../../../drizzle/schema/auth.js';
import { organizations } from '../../../drizzle/schema/projects.js';
import type { Tx } from '../../shared/db/database.js';
import { decodeCursor, page } from '../../shared/http/pagination.js';
import { problems } from '../../shared/http/problem.js';
import { randomToken, sha256Hex } from '../../shared/security/hashing.js';
import { slugify } from '../../shared/slug.js';
import type { Tenant } from '../../shared/http/transactions.js';
import { authErrors } from '../errors.js';
import { writeAuthEvent } from './audit.js';
import type { ClientInfo } from './client.js';

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

/** Tenant transaction: an invitation into the caller's organization (the code stored as SHA-256), with the organization's name for the mail. */
export async function storeInvitation(tx: Tx, t: Tenant, input: { email?: string; role: Exclude<UserRole, 'owner'> }, code: string, client: ClientInfo) {
  const [created] = await tx
    .insert(invitations)
    .values({ orgId: t.orgId, codeHash: sha256Hex(code), email: input.email?.trim() ?? null, role: input.role, expiresAt: expiry(), createdBy: t.userId, updatedBy: t.userId })
    .returning();
  await writeAuthEvent(tx, { event: 'invitation_created', orgId: t.orgId, userId: t.userId, client, details: { invitation_id: created!.id, role: input.role } });
  const [org] = await tx.select({ name: organizations.name }).from(organizations).where(eq(organizations.id, t.orgId)).limit(1);
  return { row: created!, organization: org?.name ?? 'your organization' };
}

export async function listInvitations(tx: Tx, t: Tenant, q: { limit: number; cursor?: string }) {
  const after = decodeCursor(q.cursor, ['timestamp', 'uuid']);
  const rows = await tx
    .select({ row: invitations, cursorAt: sql<string>`${invitations.createdAt}::text` })
    .from(invitations)
    .where(
      and(
        eq(invitations.orgId, t.orgId),
        after ? sql`(${invitations.createdAt}, ${invitations.id}) < (${String(after[0])}::timestamptz, ${String(after[1])}::uuid)` : undefined,
      ),
    )
    .orderBy(desc(invitations.createdAt), desc(invitations.id))
    .limit(q.limit + 1);
  const keys = new Map(rows.map((r) => [r.row.id, r.cursorAt]));
  return page(rows.map((r) => invitationView(r.row)), q.limit, (v) => [keys.get(v.id)!, v.id]);
}

/** Revokes a pending invitation of the caller's org; another org's answers 404 (RLS hides it). */
export async function revokeInvitation(tx: Tx, t: Tenant, id: string, client: ClientInfo): Promise<void> {
  const revoked = await tx
    .update(invitations)
    .set({ revokedAt: new Date(), updatedBy: t.userId })
    .where(and(eq(invitations.id, id), isNull(invitations.usedAt), isNull(invitations.revokedAt)))
    .returning({ id: invitations.id });
  if (!revoked.length) {
    const [exists] = await tx.select({ id: invitations.id }).from(invitations).where(eq(invitations.id, id));
    throw exists ? authErrors.invitationNotPending() : problems.notFound('invitation');
  }
  await writeAuthEvent(tx, { event: 'invitation_revoked', orgId: t.orgId, userId: t.userId, client, details: { invitation_id: id } });
}

/** The unique key a taken organization slug breaks (the caller maps it to slug-taken). */
export const ORGANIZATIONS_SLUG_UNIQUE = 'organizations_slug_uq';

/**
 * System transaction acting as the caller (organizations are outside any tenant): a platform
 * administrator creates an organization; the answer carries the owner's invitation code. The
 * platform-admin flag is read from the database here, not only from the token, so a revoked admin
 * cannot use a token issued before the change.
 */
export async function storeOrganization(tx: Tx, t: Tenant, input: { name: string; slug?: string }, client: ClientInfo) {
  const code = newInvitationCode();
  const [me] = await tx.select({ pa: users.isPlatformAdmin }).from(users).where(and(eq(users.id, t.userId), isNull(users.deletedAt)));
  if (!me?.pa) throw authErrors.notPlatformAdmin();
  const slug = input.slug ?? `${slugify(input.name, 'org')}-${sha256Hex(code).slice(0, 6)}`;
  const [org] = await tx.insert(organizations).values({ name: input.name.trim(), slug, createdBy: t.userId, updatedBy: t.userId }).returning();
  const [invitation] = await tx
    .insert(invitations)
    .values({ orgId: org!.id, codeHash: sha256Hex(code), role: 'owner', expiresAt: expiry(), createdBy: t.userId, updatedBy: t.userId })
    .returning();
  await writeAuthEvent(tx, {
    event: 'invitation_created',
    orgId: t.orgId,
    userId: t.userId,
    client,
    details: { invitation_id: invitation!.id, role: 'owner', organization_id: org!.id },
  });
  return {
    organization: { id: org!.id, name: org!.name, slug: org!.slug, created_at: org!.createdAt.toISOString() },
    invitation_code: code,
    invitation: invitationView(invitation!),
  };
}
