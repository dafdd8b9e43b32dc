import type { Database } from './db/database.js';
import { randomToken, sha256Hex } from './security/hashing.js';

export interface Bootstrap {
  organizationId: string;
  organizationName: string;
  invitationCode: string;
  validDays: number;
}

const VALID_DAYS = 7;

/** An invitation code is shown once; only its SHA-256 is stored. */
export const newInvitationCode = () => `inv_${randomToken(24)}`;

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
      [name, name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')],
    );
    const code = newInvitationCode();
    await client.query(
      `insert into auth.invitations (org_id, code_hash, role, grants_platform_admin, expires_at)
       values ($1, $2, 'owner', true, now() + make_interval(days => $3))`,
      [org!.id, sha256Hex(code), VALID_DAYS],
    );
    await client.exec('commit');
    return { organizationId: org!.id, organizationName: name, invitationCode: code, validDays: VALID_DAYS };
  } catch (err) {
    await client.exec('rollback').catch(() => {});
    throw err;
  } finally {
    await client.release();
  }
}
