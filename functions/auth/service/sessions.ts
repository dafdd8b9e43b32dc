import { withSystem } from '../../shared/db/tenant.js';
import { decodeCursor, page } from '../../shared/http/pagination.js';
import { randomToken, sha256Hex } from '../../shared/security/hashing.js';
import { ACCESS_TTL_SECONDS, issueAccessToken, type Principal } from '../../shared/security/tokens.js';
import type { SessionRecord } from '../../shared/sessions/port.js';
import { authErrors } from '../errors.js';
import type { AuthServices } from '../services.js';
import { writeAuthEvent } from './audit.js';
import type { ClientInfo } from './client.js';
import { findUserById, type UserRow } from './users.js';
import { bumpTokenVersion } from '../../shared/security/revocation.js';

/** A refresh chain idles out after 14 days unused and ends 30 days after sign-in (ASVS 3.3). */
export const REFRESH_IDLE_MS = 14 * 24 * 3_600_000;
export const REFRESH_ABSOLUTE_MS = 30 * 24 * 3_600_000;

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

const nextExpiry = (createdAt: Date, now = Date.now()) => new Date(Math.min(createdAt.getTime() + REFRESH_ABSOLUTE_MS, now + REFRESH_IDLE_MS));

async function accessFor(s: AuthServices, user: UserRow, sessionId: string): Promise<string> {
  return issueAccessToken(s.config.JWT_SECRETS, {
    userId: user.id,
    orgId: user.orgId,
    role: user.role,
    platformAdmin: user.isPlatformAdmin,
    sessionId,
    tokenVersion: user.tokenVersion,
  });
}

/** A new login: a session record holding the refresh token's hash, and an access token naming it. */
export async function startSession(s: AuthServices, user: UserRow, client: ClientInfo): Promise<TokenPair> {
  const refresh = randomToken(32);
  const session = await s.sessionStore.create({
    userId: user.id,
    orgId: user.orgId,
    tokenHash: sha256Hex(refresh),
    userAgent: client.userAgent,
    ip: client.ip,
    expiresAt: nextExpiry(new Date()),
  });
  return { access_token: await accessFor(s, user, session.id), refresh_token: refresh, token_type: 'Bearer', expires_in: ACCESS_TTL_SECONDS };
}

/** Rotates the refresh token; reuse of a rotated one after the grace revokes its family. */
export async function refresh(s: AuthServices, token: string, client: ClientInfo): Promise<TokenPair> {
  const next = randomToken(32);
  const result = await s.sessionStore.rotate(sha256Hex(token), {
    newTokenHash: sha256Hex(next),
    expiresAt: (session) => nextExpiry(session.createdAt),
    ip: client.ip,
    userAgent: client.userAgent,
  });
  if (result.outcome === 'invalid' || result.outcome === 'superseded') throw authErrors.invalidRefreshToken();
  const { session } = result;
  if (result.outcome === 'reused') {
    await bumpTokenVersion(s.database, session.userId);
    await withSystem(s.database, (tx) =>
      writeAuthEvent(tx, {
        event: 'token_reuse_detected',
        orgId: session.orgId,
        userId: session.userId,
        client,
        details: { session_id: session.id, family_id: session.familyId, revoked: result.revoked },
      }),
    );
    throw authErrors.invalidRefreshToken();
  }
  // Role, organization and status are read again: a refresh never outlives a demotion or a disable.
  const user = await withSystem(s.database, async (tx) => {
    const u = await findUserById(tx, session.userId);
    if (u && u.status === 'active') {
      await writeAuthEvent(tx, { event: 'token_refreshed', orgId: u.orgId, userId: u.id, client, details: { session_id: session.id } });
    }
    return u;
  });
  if (!user || user.status !== 'active' || user.orgId !== session.orgId) {
    await s.sessionStore.revokeFamily(session.familyId, 'account_disabled');
    await bumpTokenVersion(s.database, session.userId);
    throw authErrors.invalidRefreshToken();
  }
  return { access_token: await accessFor(s, user, session.id), refresh_token: next, token_type: 'Bearer', expires_in: ACCESS_TTL_SECONDS };
}

export async function logout(s: AuthServices, token: string, client: ClientInfo): Promise<void> {
  const session = await s.sessionStore.revokeByToken(sha256Hex(token), 'logout');
  if (!session) return; // idempotent, and says nothing about the token
  // The user's access tokens end with it (per-user version: their other devices refresh once).
  await bumpTokenVersion(s.database, session.userId);
  await withSystem(s.database, (tx) =>
    writeAuthEvent(tx, { event: 'logout', orgId: session.orgId, userId: session.userId, client, details: { session_id: session.id } }),
  );
}

const sessionView = (r: SessionRecord, currentId: string | undefined) => ({
  id: r.id,
  user_agent: r.userAgent,
  ip: r.ip,
  created_at: r.createdAt.toISOString(),
  last_used_at: r.lastUsedAt.toISOString(),
  expires_at: r.expiresAt.toISOString(),
  current: r.id === currentId,
});

/** The caller's live sessions (devices), newest first, keyset-paginated over the store's list. */
export async function listSessions(s: AuthServices, p: Principal, q: { limit: number; cursor?: string }) {
  const after = decodeCursor(q.cursor, ['timestamp', 'uuid']);
  const all = (await s.sessionStore.listLive({ userId: p.userId, orgId: p.orgId })).map((r) => sessionView(r, p.sessionId));
  const start = after ? all.findIndex((v) => v.created_at < String(after[0]) || (v.created_at === String(after[0]) && v.id < String(after[1]))) : 0;
  const rest = start < 0 ? [] : all.slice(start);
  return page(rest.slice(0, q.limit + 1), q.limit, (v) => [v.created_at, v.id]);
}

export async function revokeSession(s: AuthServices, p: Principal, id: string, client: ClientInfo): Promise<boolean> {
  const ok = await s.sessionStore.revoke({ userId: p.userId, orgId: p.orgId }, id, 'user_revoked');
  if (ok) {
    await bumpTokenVersion(s.database, p.userId);
    await withSystem(s.database, (tx) =>
      writeAuthEvent(tx, { event: 'session_revoked', orgId: p.orgId, userId: p.userId, client, details: { session_id: id } }),
    );
  }
  return ok;
}
