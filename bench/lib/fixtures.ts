import { randomBytes } from 'node:crypto';
import { users } from '../../drizzle/schema/auth.js';
import { organizations } from '../../drizzle/schema/projects.js';
import type { Config } from '../../functions/shared/config.js';
import type { Database } from '../../functions/shared/db/database.js';
import { withSystem } from '../../functions/shared/db/tenant.js';
import { issueAccessToken, type Role } from '../../functions/shared/security/tokens.js';

export interface BenchTenant {
  orgId: string;
  userId: string;
  token: string;
}

/** An organization with one user and a signed access token (the bench never goes through login). */
export async function createBenchTenant(database: Database, cfg: Config, role: Role = 'admin'): Promise<BenchTenant> {
  const suffix = randomBytes(5).toString('hex');
  const { orgId, userId } = await withSystem(database, async (tx) => {
    const [org] = await tx.insert(organizations).values({ name: `Bench ${suffix}`, slug: `bench-${suffix}` }).returning({ id: organizations.id });
    const [user] = await tx
      .insert(users)
      .values({ orgId: org!.id, email: `bench-${suffix}@example.test`, name: `Bench ${suffix}`, role, passwordHash: '$argon2id$v=19$m=65536,t=3,p=4$unusable$unusable' })
      .returning({ id: users.id });
    return { orgId: org!.id, userId: user!.id };
  });
  const token = await issueAccessToken(cfg.JWT_SECRETS, { userId, orgId, role, platformAdmin: false, tokenVersion: 1 });
  return { orgId, userId, token };
}
