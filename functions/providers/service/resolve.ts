import type { Database } from '../../shared/db/index.js';
import type { ProviderKind } from '../adapters/index.js';
import { providerProblems } from './errors.js';
import type { TokenPrices } from './quota.js';
import { tenantSql, type Q, type SqlTenant } from '../../shared/db/round-trip.js';

/**
 * `<route>/<model>` → adapter, base URL, key and prices, in one query inside the reserve transaction.
 * `<route>` is a catalog provider id (the caller's own key for it wins over the platform's) or the name
 * of one of the caller's keys. Model ids may themselves contain '/', so only the first one splits.
 */
export interface ResolvedRoute {
  route: string;
  model: string;
  kind: ProviderKind;
  baseUrl: string;
  /** The BYOK row to decrypt, or undefined for the platform key of `catalogId`. */
  byok?: { id: string; provider: string; encryptedKey: string; customBaseUrl: boolean; dropParams?: boolean };
  catalogId: string | null;
  inPrice: number;
  outPrice: number;
  /** Prices per token class (cached input, cache writes, reasoning default to the input/output price). */
  prices: TokenPrices;
  /** The model's own output maximum from the catalog, else the key's default for models the catalog does not list. */
  maxOutputTokens: number | null;
}

export function splitModel(name: string): { route: string; model: string } | undefined {
  const at = name.indexOf('/');
  if (at <= 0 || at === name.length - 1) return undefined;
  return { route: name.slice(0, at), model: name.slice(at + 1) };
}

const RESOLVE = `
WITH k AS (
  SELECT id, provider, catalog_provider_id, encrypted_key, base_url, name, default_max_output_tokens, drop_params
  FROM providers.user_providers
  WHERE user_id = $1 AND deleted_at IS NULL AND status <> 'revoked' AND (name = $2 OR catalog_provider_id = $2)
  ORDER BY (name = $2) DESC, created_at DESC
  LIMIT 1
)
SELECT k.id AS key_id, k.provider AS key_kind, k.encrypted_key, k.base_url AS key_base_url,
       p.id AS catalog_id, p.kind AS catalog_kind, p.base_url AS catalog_base_url, p.enabled AS catalog_enabled,
       m.input_price_micros_per_mtok AS in_price, m.output_price_micros_per_mtok AS out_price,
       m.cached_input_price_micros_per_mtok AS cached_price, m.cache_write_price_micros_per_mtok AS write_price,
       m.reasoning_price_micros_per_mtok AS reasoning_price,
       m.max_output_tokens, k.default_max_output_tokens, k.drop_params, m.enabled AS model_enabled
FROM (SELECT 1) AS one
LEFT JOIN k ON true
LEFT JOIN providers.providers p ON p.id = CASE WHEN k.id IS NOT NULL THEN k.catalog_provider_id ELSE $2 END
LEFT JOIN providers.provider_models m ON m.provider_id = p.id AND m.model = $3`;

interface Row {
  key_id: string | null;
  key_kind: ProviderKind | null;
  encrypted_key: string | null;
  key_base_url: string | null;
  catalog_id: string | null;
  catalog_kind: ProviderKind | null;
  catalog_base_url: string | null;
  catalog_enabled: boolean | null;
  in_price: string | null;
  out_price: string | null;
  cached_price: string | null;
  write_price: string | null;
  reasoning_price: string | null;
  max_output_tokens: number | null;
  default_max_output_tokens: number | null;
  drop_params: boolean | null;
  model_enabled: boolean | null;
}

export async function resolveRoute(q: Q, userId: string, requested: string): Promise<ResolvedRoute> {
  const parts = splitModel(requested);
  // NUL cannot reach PostgreSQL text; no route or model has one.
  if (!parts || requested.includes('\0')) throw providerProblems.unknownModel(requested);
  const [row] = await q.query<Row>(RESOLVE, [userId, parts.route, parts.model], { last: true });
  if (!row || (!row.key_id && !row.catalog_id)) throw providerProblems.unknownModel(requested);
  if (row.catalog_id && row.catalog_enabled === false) throw providerProblems.providerDisabled(row.catalog_id);
  // The platform pays for platform-key calls, so those need a priced catalog model; own keys may call
  // models the catalog does not list yet (tokens still count against quotas, at price 0).
  const priced = row.in_price !== null && row.model_enabled !== false;
  if (!row.key_id && !priced) throw providerProblems.unknownModel(requested);
  const baseUrl = row.key_base_url ?? row.catalog_base_url;
  if (!baseUrl) throw providerProblems.missingBaseUrl(parts.route);
  return {
    route: parts.route,
    model: parts.model,
    kind: (row.key_kind ?? row.catalog_kind)!,
    baseUrl,
    byok: row.key_id ? { id: row.key_id, provider: row.key_kind!, encryptedKey: row.encrypted_key!, customBaseUrl: row.key_base_url !== null, dropParams: row.drop_params === true } : undefined,
    catalogId: row.catalog_id,
    inPrice: priced ? Number(row.in_price) : 0,
    outPrice: priced ? Number(row.out_price) : 0,
    prices: priced ? pricesOf(row) : { input: 0, cachedInput: 0, cacheWrite: 0, output: 0, reasoning: 0 },
    maxOutputTokens: row.max_output_tokens ?? row.default_max_output_tokens,
  };
}

function pricesOf(row: Row): TokenPrices {
  const input = Number(row.in_price);
  const output = Number(row.out_price);
  return {
    input,
    cachedInput: row.cached_price === null ? input : Number(row.cached_price),
    cacheWrite: row.write_price === null ? input : Number(row.write_price),
    output,
    reasoning: row.reasoning_price === null ? output : Number(row.reasoning_price),
  };
}

/** AAD binding a BYOK ciphertext to its owner, provider and row. */
export const byokAad = (userId: string, provider: string, keyId: string) => `user:${userId}|provider:${provider}|key:${keyId}`;

/**
 * Resolved routes are cached per instance for at most ROUTE_CACHE_MS, like gateway API keys: a key
 * or catalog change made through this instance takes effect at once (forgetRoutes), one made on
 * another instance within that window. Only successful resolutions are cached; the cached value holds
 * the key's ciphertext, never its plaintext (decrypted per call).
 */
const ROUTE_CACHE_MS = 5_000;
const ROUTE_CACHE_MAX = 10_000;
const routes = new Map<string, { route: ResolvedRoute; until: number }>();
/** Bumped by forgetRoutes: a resolution that overlapped a change is used once but not cached. */
let generation = 0;

export async function resolveRouteCached(database: Database, tenant: SqlTenant, requested: string): Promise<ResolvedRoute> {
  const cacheKey = `${tenant.orgId}|${tenant.userId}|${requested}`;
  const now = Date.now();
  const hit = routes.get(cacheKey);
  if (hit && hit.until > now) return hit.route;
  const seen = generation;
  const route = await tenantSql(database, tenant, (q) => resolveRoute(q, tenant.userId, requested));
  if (seen !== generation) return route;
  if (routes.size >= ROUTE_CACHE_MAX) routes.delete(routes.keys().next().value!);
  routes.set(cacheKey, { route, until: now + ROUTE_CACHE_MS });
  return route;
}

const changeListeners: (() => void)[] = [];
/** Caches derived from routes (model lists, bare names) are dropped with them. */
export function onRoutesChanged(listener: () => void): void {
  changeListeners.push(listener);
}

/** After a change to a user's keys (or, without a user, to the catalog): resolve again on the next call. */
export function forgetRoutes(userId?: string): void {
  generation++;
  for (const listener of changeListeners) listener();
  if (userId === undefined) return routes.clear();
  for (const key of routes.keys()) if (key.split('|')[1] === userId) routes.delete(key);
}
