import { randomToken, sha256Hex } from '../../shared/security/hashing.js';
import { bumpTokenVersion } from '../../shared/security/revocation.js';
import { inSystem } from '../../shared/http/transactions.js';
import { authErrors } from '../errors.js';
import { clientInfo } from '../service/client.js';
import { auditSessionEnd, auditTokenReuse, refreshingUser, rotateRefreshToken, tokenPair, type TokenPair } from '../service/sessions.js';
import type { AuthContext } from './support.js';

// Refresh-session flows: the session store (Firestore in production) is written outside any
// PostgreSQL transaction, and each database step is its own short system transaction
// (docs/architecture.md, "Auth flows"). The token-version bump is the kernel's single autocommitted
// statement (shared/security/revocation.ts), which forgets this instance's cached token state once
// the bump is committed.

/** `POST /token/refresh`: rotates the refresh token; reuse of a rotated one after the grace revokes its family. */
export async function refresh(c: AuthContext, token: string): Promise<TokenPair> {
  const s = c.var.services;
  const client = clientInfo(c);
  const next = randomToken(32);
  const result = await rotateRefreshToken(s.sessionStore, token, next, client);
  if (result.outcome === 'invalid' || result.outcome === 'superseded') throw authErrors.invalidRefreshToken();
  const { session } = result;
  if (result.outcome === 'reused') {
    await bumpTokenVersion(c.var.database, session.userId);
    await inSystem(c, (tx) => auditTokenReuse(tx, session, result.revoked, client));
    throw authErrors.invalidRefreshToken();
  }
  const user = await inSystem(c, (tx) => refreshingUser(tx, session, client));
  if (!user || user.status !== 'active' || user.orgId !== session.orgId) {
    await s.sessionStore.revokeFamily(session.familyId, 'account_disabled');
    await bumpTokenVersion(c.var.database, session.userId);
    throw authErrors.invalidRefreshToken();
  }
  return tokenPair(s.config.JWT_SECRETS, user, session.id, next);
}

/** `POST /logout`: idempotent, and says nothing about the token. */
export async function logout(c: AuthContext, token: string): Promise<void> {
  const session = await c.var.services.sessionStore.revokeByToken(sha256Hex(token), 'logout');
  if (!session) return;
  // The user's access tokens end with it (per-user version: their other devices refresh once).
  await bumpTokenVersion(c.var.database, session.userId);
  await inSystem(c, (tx) => auditSessionEnd(tx, 'logout', session, clientInfo(c)));
}

/** `DELETE /sessions/{id}`: one of the caller's own sessions; false when it has none by that id. */
export async function revokeSession(c: AuthContext, id: string): Promise<boolean> {
  const p = c.var.principal;
  const ok = await c.var.services.sessionStore.revoke({ userId: p.userId, orgId: p.orgId }, id, 'user_revoked');
  if (ok) {
    await bumpTokenVersion(c.var.database, p.userId);
    await inSystem(c, (tx) => auditSessionEnd(tx, 'session_revoked', { id, orgId: p.orgId, userId: p.userId }, clientInfo(c)));
  }
  return ok;
}
