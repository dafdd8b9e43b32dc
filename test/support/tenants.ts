import { randomBytes } from 'node:crypto';
import { organizations } from '../../drizzle/schema/projects.js';
import { users } from '../../drizzle/schema/auth.js';
import type { Database } from '../../functions/shared/db/database.js';
import { withSystem } from '../../functions/shared/db/tenant.js';
import { issueAccessToken, type Role } from '../../functions/shared/security/tokens.js';
import { testConfig } from './app.js';

export interface TestTenant {
  orgId: string;
  userId: string;
  email: string;
  role: Role;
  token: string;
}

/**
 * An organization (new unless `orgId` is given) with one user of `role`, and a valid access token.
 * For functions other than auth, whose tests need a signed-in caller without going through login.
 */
export async function createTenant(database: Database, options: { role?: Role; orgId?: string; platformAdmin?: boolean } = {}): Promise<TestTenant> {
  const role = options.role ?? 'admin';
  const suffix = randomBytes(5).toString('hex');
  const email = `${role}-${suffix}@example.test`;
  const { orgId, userId } = await withSystem(database, async (tx) => {
    let orgId = options.orgId;
    if (!orgId) {
      const [org] = await tx.insert(organizations).values({ name: `Org ${suffix}`, slug: `org-${suffix}` }).returning({ id: organizations.id });
      orgId = org!.id;
    }
    const [user] = await tx
      .insert(users)
      .values({ orgId, email, name: `User ${suffix}`, role, isPlatformAdmin: options.platformAdmin ?? false, passwordHash: '$argon2id$v=19$m=65536,t=3,p=4$unusable$unusable' })
      .returning({ id: users.id });
    return { orgId, userId: user!.id };
  });
  const token = await issueAccessToken(testConfig().JWT_SECRETS, { userId, orgId, role, platformAdmin: options.platformAdmin ?? false, tokenVersion: 1 });
  return { orgId, userId, email, role, token };
}

/** One organization with a user of each named role (the first creates the org). */
export async function createTeam<const R extends Record<string, Role>>(database: Database, roles: R): Promise<{ [K in keyof R]: TestTenant }> {
  const team: Record<string, TestTenant> = {};
  let orgId: string | undefined;
  for (const [name, role] of Object.entries(roles)) {
    team[name] = await createTenant(database, { role, orgId });
    orgId ??= team[name]!.orgId;
  }
  return team as { [K in keyof R]: TestTenant };
}
