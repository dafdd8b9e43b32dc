import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { sessions, sessionTokens } from '../../../drizzle/schema/auth.js';
import { withSystem } from '../../../functions/shared/db/tenant.js';
import { postgresSessionStore } from '../../../functions/shared/sessions/postgres.js';
import { sha256Hex } from '../../../functions/shared/security/hashing.js';
import { createTestDatabase } from '../../support/db.js';
import { createTenant } from '../../support/tenants.js';
import { describeSessionStore } from '../../support/contracts/session-store.contract.js';

const { database } = await createTestDatabase();

describeSessionStore('postgres (auth.sessions)', {
  make: (clock) => postgresSessionStore(database, { clock }),
  newUser: async () => {
    const t = await createTenant(database, { role: 'member' });
    return { userId: t.userId, orgId: t.orgId };
  },
});

describe('postgres retired-token history (auth.session_tokens)', () => {
  it('keeps one row per retired hash, which goes with its session', async () => {
    const store = postgresSessionStore(database);
    const t = await createTenant(database, { role: 'member' });
    const tokens = [0, 1, 2, 3].map(() => sha256Hex(randomBytes(32)));
    const s = await store.create({ userId: t.userId, orgId: t.orgId, tokenHash: tokens[0]!, expiresAt: new Date(Date.now() + 3_600_000) });
    for (let i = 0; i < 3; i++) await store.rotate(tokens[i]!, { newTokenHash: tokens[i + 1]!, expiresAt: () => new Date(Date.now() + 3_600_000) });
    const rows = () => withSystem(database, (tx) => tx.select().from(sessionTokens).where(eq(sessionTokens.sessionId, s.id)));
    expect((await rows()).map((r) => r.tokenHash).sort()).toEqual(tokens.slice(0, 3).sort());
    expect((await rows()).every((r) => r.familyId === s.familyId && r.orgId === t.orgId)).toBe(true);
    await withSystem(database, (tx) => tx.delete(sessions).where(eq(sessions.id, s.id)));
    expect(await rows()).toEqual([]);
  });
});
