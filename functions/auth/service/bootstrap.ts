import type { Database } from '../../shared/db/database.js';
import { sha256Hex } from '../../shared/security/hashing.js';
import { slugify } from '../../shared/slug.js';
import { INVITATION_VALID_DAYS, newInvitationCode } from './invitations.js';

export interface Bootstrap {
  organizationId: string;
  organizationName: string;
  invitationCode: string;
  validDays: number;
}

/**
 * On a database with no organization: creates the first one and an owner invitation that also
 * grants platform administration, and returns the code to print. Later starts return undefined.
 */
export async function bootstrapFirstOrganization(database: Database, name = 'Lattice Lock'): Promise<Bootstrap | undefined> {
  const client = await database.connect();
  try {
    await client.exec('begin');
    await client.query('select pg_advisory_xact_lock(7243003)');
    const [{ count } = { count: 0 }] = await client.query<{ count: number }>('select count(*)::int as count from projects.organizations');
    if (count > 0) {
      await client.exec('commit');
      return undefined;
    }
    const [org] = await client.query<{ id: string }>(
      `insert into projects.organizations (name, slug) values ($1, $2) returning id`,
      [name, slugify(name, 'org')],
    );
    const code = newInvitationCode();
    await client.query(
      `insert into auth.invitations (org_id, code_hash, role, grants_platform_admin, expires_at)
       values ($1, $2, 'owner', true, now() + make_interval(days => $3))`,
      [org!.id, sha256Hex(code), INVITATION_VALID_DAYS],
    );
    await client.exec('commit');
    return { organizationId: org!.id, organizationName: name, invitationCode: code, validDays: INVITATION_VALID_DAYS };
  } catch (err) {
    await client.exec('rollback').catch(() => {});
    throw err;
  } finally {
    await client.release();
  }
}
