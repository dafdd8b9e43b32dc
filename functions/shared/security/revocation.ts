import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import type { Principal, Role } from './tokens.js';
import { rowsOf } from '../db/rows.js';

/**
 * Access tokens are JWTs that live 15 minutes; what makes them stop within seconds of a logout,
 * session revocation, password change or reset, disable or role change is a per-user token version
 * (auth.users.token_version) that each token names in its `ver` claim. The version lives in
 * PostgreSQL, which every function reaches, so the check is the same whichever session store
 * (Firestore or Postgres) holds the refresh sessions. A trigger moves it when role, status,
 * password, organization or deletion change; the auth function moves it on logout, session
 * revocation and refresh-token reuse (`bumpTokenVersion`).
 *
 * Each instance caches a user's state for `ttlMs` (2 s by default, 5 s at most): one indexed
 * primary-key read per user per instance every few seconds, and an instance that made the change
 * forgets its entry at once.
 */
export interface TokenState {
  orgId: string;
  version: number;
  role: Role;
  platformAdmin: boolean;
  active: boolean;
}

export const TOKEN_STATE_TTL_MS = 2_000;
export const MAX_TOKEN_STATE_TTL_MS = 5_000;

export class TokenStateCache {
  private readonly entries = new Map<string, { state: TokenState | undefined; until: number }>();
  private readonly ttlMs: number;

  constructor(private readonly options: { ttlMs?: number; now?: () => number; maxEntries?: number } = {}) {
    this.ttlMs = Math.min(options.ttlMs ?? TOKEN_STATE_TTL_MS, MAX_TOKEN_STATE_TTL_MS);
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  async get(database: Database, userId: string): Promise<TokenState | undefined> {
    const hit = this.entries.get(userId);
    if (hit && hit.until > this.now()) return hit.state;
    const state = await readTokenState(database, userId);
    if (this.entries.size >= (this.options.maxEntries ?? 10_000)) this.entries.clear();
    this.entries.set(userId, { state, until: this.now() + this.ttlMs });
    return state;
  }

  forget(userId: string): void {
    this.entries.delete(userId);
  }
}

/** The instance's cache, shared by every function's auth middleware in this process. */
export const tokenStates = new TokenStateCache();

// One statement, no transaction: the connecting role reads the row by primary key before the tenant is
// known (the token's claims are what is being checked), like login's lookup by email.
async function readTokenState(database: Database, userId: string): Promise<TokenState | undefined> {
  const result = await database.db.execute(sql`
    select org_id, token_version, role, is_platform_admin, status = 'active' and deleted_at is null as active
    from auth.users where id = ${userId}`);
  const row = rowsOf(result)[0];
  if (!row) return undefined;
  return {
    orgId: String(row.org_id),
    version: Number(row.token_version),
    role: row.role as Role,
    platformAdmin: row.is_platform_admin === true,
    active: row.active === true,
  };
}

/** Why an access token no longer holds, or undefined when it does. */
export function staleReason(principal: Principal, tokenVersion: number | undefined, state: TokenState | undefined): string | undefined {
  if (!state || !state.active) return 'account disabled or removed';
  if (tokenVersion === undefined || tokenVersion !== state.version) return 'token revoked';
  if (state.orgId !== principal.orgId || state.role !== principal.role || state.platformAdmin !== principal.platformAdmin) return 'token revoked';
  return undefined;
}

/** Ends every access token of the user (their refresh sessions decide who may get a new one). */
export async function bumpTokenVersion(database: Database, userId: string): Promise<void> {
  await database.db.execute(sql`update auth.users set token_version = token_version + 1 where id = ${userId}`);
  tokenStates.forget(userId);
}
