import { randomBytes } from 'node:crypto';
import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { apiKeys } from '../../../drizzle/schema/providers.js';
import type { Database, Tx } from '../../shared/db/index.js';
import { decodeCursor, page, problems, type Tenant } from '../../shared/http/index.js';
import { providerProblems } from './errors.js';
import { randomToken, sha256Hex } from '../../shared/security/hashing.js';
import type { Principal, Role } from '../../shared/security/tokens.js';
import { systemSql } from '../../shared/db/round-trip.js';

/**
 * Gateway API keys: `llk_<12 alnum>_<43 base64url>`; the prefix identifies the key in lists, only the
 * SHA-256 of the whole key is stored, and the key is shown once. Lookups are cached per instance for at
 * most CACHE_MS (revocation on another instance takes effect within that window; on this one, at once).
 */
export const API_KEY_SCOPES = ['chat', 'models', 'usage'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];
const CACHE_MS = 5_000;
const CACHE_MAX = 10_000;

type Entry = { principal?: Principal; keyId?: string; until: number };
const cache = new Map<string, Entry>();

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const newPrefix = () => `llk_${Array.from(randomBytes(12), (b) => ALNUM[b % ALNUM.length]).join('')}`;

export const looksLikeApiKey = (token: string) => token.startsWith('llk_');

/** Principal for a gateway key, undefined if not one; throws 401 for a key that is not (or no longer) valid. */
export async function authenticateApiKey(database: Database, token: string): Promise<Principal | undefined> {
  if (!looksLikeApiKey(token)) return undefined;
  const hash = sha256Hex(token);
  const now = Date.now();
  let entry = cache.get(hash);
  if (!entry || entry.until <= now) {
    // Before the tenant is known: the SECURITY DEFINER lookup plus the owner's role, in one round trip.
    const [row] = await systemSql(database, (q) =>
      q.query<{ id: string; org_id: string; user_id: string; scopes: string[]; expires_at: Date | null; role: Role }>(
        `SELECT k.id, k.org_id, k.user_id, k.scopes, k.expires_at, u.role
         FROM providers.authenticate_api_key($1) k
         JOIN auth.users u ON u.id = k.user_id AND u.org_id = k.org_id AND u.status = 'active'`,
        [hash],
        { last: true },
      ),
    );
    const until = Math.min(now + CACHE_MS, row?.expires_at ? new Date(row.expires_at).getTime() : Infinity);
    entry = row
      ? { keyId: row.id, until, principal: { userId: row.user_id, orgId: row.org_id, role: row.role, platformAdmin: false, via: 'api_key', scopes: row.scopes } }
      : { until };
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(hash, entry);
  }
  if (!entry.principal) throw problems.unauthorized('invalid, expired or revoked API key', 'invalid-api-key');
  return entry.principal;
}

/** Drops a revoked key from this instance's cache (other instances within CACHE_MS). */
export function forgetApiKey(keyId: string): void {
  for (const [hash, e] of cache) if (e.keyId === keyId) cache.delete(hash);
}

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  created_at: string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const view = (r: typeof apiKeys.$inferSelect): ApiKeyView => ({
  id: r.id, name: r.name, prefix: r.prefix, scopes: r.scopes, expires_at: iso(r.expiresAt), revoked_at: iso(r.revokedAt), last_used_at: iso(r.lastUsedAt), created_at: r.createdAt.toISOString(),
});

export async function createApiKey(tx: Tx, t: Tenant, input: { name: string; scopes?: string[]; expires_at?: string | null }) {
  const prefix = newPrefix();
  const key = `${prefix}_${randomToken(32)}`;
  const expiresAt = input.expires_at ? new Date(input.expires_at) : null;
  if (expiresAt && expiresAt.getTime() <= Date.now()) throw providerProblems.expiryInThePast();
  const [row] = await tx.insert(apiKeys)
    .values({ orgId: t.orgId, userId: t.userId, name: input.name, prefix, keyHash: sha256Hex(key), scopes: [...new Set(input.scopes ?? [])], expiresAt, createdBy: t.userId, updatedBy: t.userId })
    .returning();
  return { ...view(row!), key };
}

export async function listApiKeys(tx: Tx, t: Tenant, query: { limit: number; cursor?: string }) {
  const after = decodeCursor(query.cursor, ['timestamp', 'uuid']);
  const rows = await tx.select().from(apiKeys)
    .where(and(eq(apiKeys.userId, t.userId), after ? or(lt(apiKeys.createdAt, new Date(after[0])), and(eq(apiKeys.createdAt, new Date(after[0])), lt(apiKeys.id, after[1]))) : undefined))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(query.limit + 1);
  const result = page(rows, query.limit, (r) => [r.createdAt.toISOString(), r.id]);
  return { items: result.items.map(view), next_cursor: result.next_cursor };
}

/** Revokes the caller's key; the route then calls forgetApiKey after commit (this instance stops accepting it at once). */
export async function revokeApiKey(tx: Tx, t: Tenant, id: string): Promise<void> {
  const rows = await tx.update(apiKeys).set({ revokedAt: sql`now()`, updatedBy: t.userId })
    .where(and(eq(apiKeys.id, id), eq(apiKeys.userId, t.userId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  if (!rows.length) throw problems.notFound('API key');
}
