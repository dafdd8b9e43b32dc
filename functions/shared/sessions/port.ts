import type { SessionRevokedReason } from '../../../drizzle/schema/auth.js';

/**
 * SessionStore: refresh-token sessions. One record per login; refreshing rotates its token in place
 * (every retired hash is remembered with the time it was retired), so the record id is stable for
 * `GET /sessions` while the token changes on every use. Every session of one login shares a familyId.
 *
 * Two adapters run the same contract suite (test/support/contracts/session-store.contract.ts): Firestore
 * (production; collection `sessions`, TTL on `expiresAt`) and PostgreSQL (auth.sessions, embedded).
 * TTL deletion is late, so every read checks `expiresAt` and `revokedAt` itself.
 */
export interface SessionRecord {
  id: string;
  userId: string;
  orgId: string;
  familyId: string;
  userAgent: string | null;
  ip: string | null;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason: SessionRevokedReason | null;
}

export interface NewSession {
  userId: string;
  orgId: string;
  /** SHA-256 hex of the refresh token; the token itself is never stored. */
  tokenHash: string;
  userAgent?: string | null;
  ip?: string | null;
  /** Absolute end of the session (the refresh chain cannot outlive it). */
  expiresAt: Date;
  familyId?: string;
}

export interface RotateOptions {
  newTokenHash: string;
  /** The rotated session's new expiry (sliding idle timeout, capped by the absolute one). */
  expiresAt: (session: SessionRecord) => Date;
  ip?: string | null;
  userAgent?: string | null;
}

export type RotateResult =
  | { outcome: 'rotated'; session: SessionRecord }
  /** Unknown, expired or revoked token. */
  | { outcome: 'invalid' }
  /** A retired token presented within REUSE_GRACE_MS of its own retirement (a retry or a parallel refresh): refused, nothing revoked. */
  | { outcome: 'superseded'; session: SessionRecord }
  /**
   * A retired token (however many rotations old) after its own grace period: the family was revoked.
   * Either the token was stolen and the thief rotated it, or the victim holds the old one and the
   * thief the live one; we cannot tell which, so every session of the login dies.
   */
  | { outcome: 'reused'; session: SessionRecord; revoked: number };

export interface UserScope {
  userId: string;
  orgId: string;
}

export interface SessionStore {
  readonly kind: 'firestore' | 'postgres';
  create(input: NewSession): Promise<SessionRecord>;
  /** Atomically exchanges the current token for a new one (transaction / Firestore transaction). */
  rotate(tokenHash: string, options: RotateOptions): Promise<RotateResult>;
  /** A live (unexpired, unrevoked) session of this user, or undefined. */
  get(scope: UserScope, id: string): Promise<SessionRecord | undefined>;
  /** The user's live sessions, most recently created first. */
  listLive(scope: UserScope): Promise<SessionRecord[]>;
  revoke(scope: UserScope, id: string, reason: SessionRevokedReason): Promise<boolean>;
  /** Logout: revokes the live session whose current token this is. */
  revokeByToken(tokenHash: string, reason: SessionRevokedReason): Promise<SessionRecord | undefined>;
  revokeFamily(familyId: string, reason: SessionRevokedReason): Promise<number>;
  /** Every live session of the user except `exceptId` (password change keeps the caller's). */
  revokeAllForUser(scope: UserScope, reason: SessionRevokedReason, exceptId?: string): Promise<number>;
  /** Readiness probe: a real round trip. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A rotated token presented again within this window is a retry, not theft (DESIGN.md §3). */
export const REUSE_GRACE_MS = 10_000;

export type Clock = () => Date;
export const systemClock: Clock = () => new Date();

export const isLive = (s: Pick<SessionRecord, 'expiresAt' | 'revokedAt'>, now: Date) => !s.revokedAt && s.expiresAt.getTime() > now.getTime();

/**
 * The session fields a rotation writes, the same in both stores: the new hash, and the last retired one
 * (previous_token_hash/rotated_at). Each adapter also records the retired hash in its full history.
 */
export function rotationChanges(previousTokenHash: string, opts: RotateOptions, at: Date, expiresAt: Date) {
  return {
    tokenHash: opts.newTokenHash,
    previousTokenHash,
    rotatedAt: at,
    lastUsedAt: at,
    expiresAt,
    ...(opts.ip !== undefined ? { ip: opts.ip } : {}),
    ...(opts.userAgent !== undefined ? { userAgent: opts.userAgent } : {}),
  };
}
