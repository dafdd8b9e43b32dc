import type { Tx } from '../../shared/db/database.js';
import { decodeCursor, page } from '../../shared/http/pagination.js';
import { randomToken, sha256Hex } from '../../shared/security/hashing.js';
import { ACCESS_TTL_SECONDS, issueAccessToken, type Principal, type SigningKey } from '../../shared/security/tokens.js';
import type { RotateResult, SessionRecord, SessionStore } from '../../shared/sessions/port.js';
import { writeAuthEvent } from './audit.js';
import type { ClientInfo } from './client.js';
import { findUserById, type UserRow } from './users.js';

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

/** The access token naming `sessionId`, and the refresh token that goes with it. */
export async function tokenPair(keys: SigningKey[], user: UserRow, sessionId: string, refreshToken: string): Promise<TokenPair> {
  const access = await issueAccessToken(keys, {
    userId: user.id,
    orgId: user.orgId,
    role: user.role,
    platformAdmin: user.isPlatformAdmin,
    sessionId,
    tokenVersion: user.tokenVersion,
  });
  return { access_token: access, refresh_token: refreshToken, token_type: 'Bearer', expires_in: ACCESS_TTL_SECONDS };
}

/** A new login: a session record holding the refresh token's hash, and an access token naming it (no transaction: the store is its own). */
export async function startSession(store: SessionStore, keys: SigningKey[], user: UserRow, client: ClientInfo): Promise<TokenPair> {
  const refresh = randomToken(32);
  const session = await store.create({
    userId: user.id,
    orgId: user.orgId,
    tokenHash: sha256Hex(refresh),
    userAgent: client.userAgent,
    ip: client.ip,
    expiresAt: nextExpiry(new Date()),
  });
  return tokenPair(keys, user, session.id, refresh);
}

/** Rotates the refresh token `token` to `next` in the store; reuse of a rotated one after the grace revokes its family. */
export function rotateRefreshToken(store: SessionStore, token: string, next: string, client: ClientInfo): Promise<RotateResult> {
  return store.rotate(sha256Hex(token), {
    newTokenHash: sha256Hex(next),
    expiresAt: (session) => nextExpiry(session.createdAt),
    ip: client.ip,
    userAgent: client.userAgent,
  });
}

/** System transaction: a rotated refresh token came back after the grace (its family is revoked already). */
export async function auditTokenReuse(tx: Tx, session: SessionRecord, revoked: number, client: ClientInfo): Promise<void> {
  await writeAuthEvent(tx, {
    event: 'token_reuse_detected',
    orgId: session.orgId,
    userId: session.userId,
    client,
    details: { session_id: session.id, family_id: session.familyId, revoked },
  });
}

/**
 * System transaction: the session's user read again (role, organization and status: a refresh never
 * outlives a demotion or a disable), with `token_refreshed` audited when the account is active.
 */
export async function refreshingUser(tx: Tx, session: SessionRecord, client: ClientInfo): Promise<UserRow | undefined> {
  const user = await findUserById(tx, session.userId);
  if (user && user.status === 'active') {
    await writeAuthEvent(tx, { event: 'token_refreshed', orgId: user.orgId, userId: user.id, client, details: { session_id: session.id } });
  }
  return user;
}

/** System transaction: a session ended by its user (`logout` with the refresh token, or `session_revoked` from the device list). */
export async function auditSessionEnd(
  tx: Tx,
  event: 'logout' | 'session_revoked',
  session: { id: string; orgId: string; userId: string },
  client: ClientInfo,
): Promise<void> {
  await writeAuthEvent(tx, { event, orgId: session.orgId, userId: session.userId, client, details: { session_id: session.id } });
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
export async function listSessions(store: SessionStore, p: Principal, q: { limit: number; cursor?: string }) {
  const after = decodeCursor(q.cursor, ['timestamp', 'uuid']);
  const all = (await store.listLive({ userId: p.userId, orgId: p.orgId })).map((r) => sessionView(r, p.sessionId));
  const start = after ? all.findIndex((v) => v.created_at < String(after[0]) || (v.created_at === String(after[0]) && v.id < String(after[1]))) : 0;
  const rest = start < 0 ? [] : all.slice(start);
  return page(rest.slice(0, q.limit + 1), q.limit, (v) => [v.created_at, v.id]);
}
