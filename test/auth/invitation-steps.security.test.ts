import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { listInvitations, newInvitationCode, revokeInvitation, storeInvitation } from '../../functions/auth/service/invitations.js';
import { listAuthEvents } from '../../functions/auth/service/audit.js';
import { HttpProblem } from '../../functions/shared/http/problem.js';
import type { Tenant } from '../../functions/shared/http/transactions.js';
import { createTestDatabase, inRolledBackTenant } from '../support/db.js';
import { createTenant } from '../support/tenants.js';

// The invitation services called directly with (tx, tenant, …), each test inside one tenant transaction
// that is rolled back: row-level security scopes them to the tenant's organization as it does for a route.

const { database } = await createTestDatabase();
const client = { ip: '192.0.2.20', userAgent: 'steps-test' };
const tenantOf = (t: Awaited<ReturnType<typeof createTenant>>): Tenant => ({ orgId: t.orgId, userId: t.userId, role: t.role });

const problemOf = (p: Promise<unknown>) => p.then(() => undefined, (err: unknown) => (err instanceof HttpProblem ? [err.status, err.code] : err));

describe('invitation services in the caller\'s transaction', () => {
  it('create, list and revoke one invitation, audited in the same transaction; revoking again is 409, an unknown id 404', async () => {
    const admin = tenantOf(await createTenant(database, { role: 'admin' }));
    const r = await inRolledBackTenant(database, admin, async (tx, t) => {
      const { row } = await storeInvitation(tx, t, { email: 'new@example.test', role: 'member' }, newInvitationCode(), client);
      const listed = await listInvitations(tx, t, { limit: 10 });
      await revokeInvitation(tx, t, row.id, client);
      const again = await problemOf(revokeInvitation(tx, t, row.id, client));
      const unknown = await problemOf(revokeInvitation(tx, t, '00000000-0000-4000-8000-000000000000', client));
      const events = await listAuthEvents(tx, t, { limit: 10 });
      return { row, listed, after: await listInvitations(tx, t, { limit: 10 }), again, unknown, events };
    });
    expect(r.listed.items.map((i) => [i.id, i.status])).toEqual([[r.row.id, 'pending']]);
    expect(r.after.items.map((i) => [i.id, i.status])).toEqual([[r.row.id, 'revoked']]);
    expect(r.again).toEqual([409, 'invitation-not-pending']);
    expect(r.unknown).toEqual([404, 'not-found']);
    expect(r.events.items.map((e) => e.event).sort()).toEqual(['invitation_created', 'invitation_revoked']);
  });

  it('another organization\'s invitation is invisible: listing shows none, revoking answers 404', async () => {
    const a = tenantOf(await createTenant(database, { role: 'admin' }));
    const b = tenantOf(await createTenant(database, { role: 'admin' }));
    const r = await inRolledBackTenant(database, a, async (tx, t) => {
      const { row } = await storeInvitation(tx, t, { role: 'viewer' }, newInvitationCode(), client);
      // Same transaction, the other tenant's settings: row-level security reads app.org_id per statement.
      await tx.execute(sql`select set_config('app.org_id', ${b.orgId}, true), set_config('app.user_id', ${b.userId}, true)`);
      return { seen: await listInvitations(tx, b, { limit: 10 }), revoke: await problemOf(revokeInvitation(tx, b, row.id, client)) };
    });
    expect(r.seen.items).toEqual([]);
    expect(r.revoke).toEqual([404, 'not-found']);
  });
});
