import { randomUUID } from 'node:crypto';
import { and, desc, eq, gt, isNull, ne, sql } from 'drizzle-orm';
import { sessions, sessionTokens, type SessionRevokedReason } from '../../../drizzle/schema/auth.js';
import type { Database, Tx } from '../db/database.js';
import { withSystem, withTenant } from '../db/tenant.js';
import { isLive, REUSE_GRACE_MS, rotationChanges, systemClock, type Clock, type RotateResult, type SessionRecord, type SessionStore } from './port.js';

type Row = typeof sessions.$inferSelect;

const toRecord = (r: Row): SessionRecord => ({
  id: r.id,
  userId: r.userId,
  orgId: r.orgId,
  familyId: r.familyId,
  userAgent: r.userAgent,
  ip: r.ip,
  createdAt: r.createdAt,
  lastUsedAt: r.lastUsedAt,
  expiresAt: r.expiresAt,
  revokedAt: r.revokedAt,
  revokedReason: r.revokedReason,
});

/**
 * The embedded adapter: auth.sessions. Lookups by token hash run before the tenant is known
 * (withSystem); everything scoped to a signed-in user runs under RLS (withTenant).
 * Times come from the store's clock, like the Firestore adapter, so both behave the same in tests.
 */
export function postgresSessionStore(database: Database, options: { clock?: Clock } = {}): SessionStore {
  const now = options.clock ?? systemClock;
  const live = (at: Date) => and(isNull(sessions.revokedAt), gt(sessions.expiresAt, at));

  const revokeWhere = async (tx: Tx, where: ReturnType<typeof and>, reason: SessionRevokedReason) => {
    const at = now();
    const rows = await tx
      .update(sessions)
      .set({ revokedAt: at, revokedReason: reason })
      .where(and(where, live(at)))
      .returning({ id: sessions.id });
    return rows.length;
  };

  /** Any hash the session ever rotated away: within ITS grace a retry, later a theft. */
  const retired = async (tx: Tx, tokenHash: string, at: Date): Promise<RotateResult> => {
    const [hit] = await tx
      .select({ session: sessions, retiredAt: sessionTokens.retiredAt })
      .from(sessionTokens)
      .innerJoin(sessions, eq(sessions.id, sessionTokens.sessionId))
      .where(eq(sessionTokens.tokenHash, tokenHash))
      .limit(1);
    if (!hit || !isLive(hit.session, at)) return { outcome: 'invalid' };
    const session = toRecord(hit.session);
    if (at.getTime() - hit.retiredAt.getTime() <= REUSE_GRACE_MS) return { outcome: 'superseded', session };
    return { outcome: 'reused', session, revoked: await revokeWhere(tx, eq(sessions.familyId, session.familyId), 'token_reuse') };
  };

  return {
    kind: 'postgres',

    async create(input) {
      const id = randomUUID();
      const at = now();
      const [row] = await withTenant(database, { orgId: input.orgId, userId: input.userId }, (tx) =>
        tx
          .insert(sessions)
          .values({
            id,
            orgId: input.orgId,
            userId: input.userId,
            familyId: input.familyId ?? id,
            tokenHash: input.tokenHash,
            userAgent: input.userAgent ?? null,
            ip: input.ip ?? null,
            createdAt: at,
            lastUsedAt: at,
            expiresAt: input.expiresAt,
          })
          .returning(),
      );
      return toRecord(row!);
    },

    async rotate(tokenHash, opts): Promise<RotateResult> {
      return withSystem(database, async (tx) => {
        // FOR UPDATE serialises two refreshes of one token: the second waits, then re-reads the
        // row as the first left it (READ COMMITTED re-checks the WHERE) and finds no current token;
        // its next statement (a fresh snapshot) then finds the hash among the retired ones: superseded.
        const [row] = await tx.select().from(sessions).where(eq(sessions.tokenHash, tokenHash)).limit(1).for('update');
        const at = now();
        if (!row) return retired(tx, tokenHash, at);
        if (!isLive(row, at)) return { outcome: 'invalid' };
        const expiresAt = opts.expiresAt(toRecord(row));
        await tx.insert(sessionTokens).values({ tokenHash, sessionId: row.id, familyId: row.familyId, orgId: row.orgId, retiredAt: at });
        const [updated] = await tx
          .update(sessions)
          .set(rotationChanges(tokenHash, opts, at, expiresAt))
          .where(eq(sessions.id, row.id))
          .returning();
        return { outcome: 'rotated', session: toRecord(updated!) };
      });
    },

    async get(scope, id) {
      const [row] = await withTenant(database, scope, (tx) =>
        tx.select().from(sessions).where(and(eq(sessions.id, id), eq(sessions.userId, scope.userId), live(now()))),
      );
      return row ? toRecord(row) : undefined;
    },

    async listLive(scope) {
      const rows = await withTenant(database, scope, (tx) =>
        tx
          .select()
          .from(sessions)
          .where(and(eq(sessions.userId, scope.userId), live(now())))
          .orderBy(desc(sessions.createdAt), desc(sessions.id))
          .limit(500),
      );
      return rows.map(toRecord);
    },

    async revoke(scope, id, reason) {
      const n = await withTenant(database, scope, (tx) => revokeWhere(tx, and(eq(sessions.id, id), eq(sessions.userId, scope.userId)), reason));
      return n > 0;
    },

    async revokeByToken(tokenHash, reason) {
      return withSystem(database, async (tx) => {
        const at = now();
        const [row] = await tx
          .update(sessions)
          .set({ revokedAt: at, revokedReason: reason })
          .where(and(eq(sessions.tokenHash, tokenHash), live(at)))
          .returning();
        return row ? toRecord(row) : undefined;
      });
    },

    async revokeFamily(familyId, reason) {
      return withSystem(database, (tx) => revokeWhere(tx, eq(sessions.familyId, familyId), reason));
    },

    async revokeAllForUser(scope, reason, exceptId) {
      return withTenant(database, scope, (tx) =>
        revokeWhere(tx, and(eq(sessions.userId, scope.userId), exceptId ? ne(sessions.id, exceptId) : sql`true`), reason),
      );
    },

    async ping() {
      await database.ping();
    },

    async close() {
      // the database belongs to the kernel, which closes it
    },
  };
}
