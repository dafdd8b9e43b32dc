import { and, asc, eq, isNull, ne } from 'drizzle-orm';
import { providerModels, providers, userProviders } from '../../../drizzle/schema/providers.js';
import type { KeyEncryptor } from '../../shared/crypto/index.js';
import { withTenant, type Database, type Tx } from '../../shared/db/index.js';
import type { Tenant } from '../../shared/http/index.js';
import type { Principal } from '../../shared/security/tokens.js';
import { joinUrl, type ProviderKind } from '../adapters/index.js';
import { byokAad, onRoutesChanged } from './resolve.js';
import type { UrlGuard } from './ssrf.js';
import { readJsonCapped } from './transport.js';

/**
 * What models a caller can address: the enabled catalog models (`<provider>/<model>`) and, for each
 * of the caller's own keys, `<key name>/<model>` for the models its provider lists (OpenAI and
 * compatible servers `GET /models`, Anthropic `GET /v1/models`, Gemini `GET /v1beta/models`) or, when
 * the provider cannot be asked, the catalog models of its kind. Provider lists are cached per
 * instance for LIST_TTL_MS per key version: model pickers (Open WebUI, Continue, LibreChat) poll
 * /v1/models, and one slow provider must not slow every poll.
 */
export interface ModelEntry {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

/** A route with its parts; `usable` is false for a catalog route neither the platform nor the caller has a key for. */
export interface Addressable extends ModelEntry {
  route: string;
  model: string;
  source: 'catalog' | 'key';
  /** Served by the platform's key (a catalog route the caller has no own key for). */
  platform: boolean;
}

export const publicEntry = ({ id, object, created, owned_by }: ModelEntry): ModelEntry => ({ id, object, created, owned_by });

export interface ModelListDeps extends ModelFetchDeps {
  database: Database;
}

/** What fetching the providers' own lists needs (no database). */
export interface ModelFetchDeps {
  keyEncryptor: KeyEncryptor;
  production: boolean;
  /** The SSRF rule, and the pinned fetch a user-supplied base URL is called through. */
  urlGuard: UrlGuard;
  /** Catalog provider ids the platform holds a key for. */
  platformKeys: Record<string, string>;
  /** Timeout of one provider list call. */
  timeoutMs?: number;
}

const LIST_TTL_MS = 10 * 60_000;
const LIST_CACHE_MAX = 2_000;
const lists = new Map<string, { models: string[]; until: number }>();

interface KeyRow {
  id: string;
  name: string;
  provider: string;
  catalogProviderId: string | null;
  encryptedKey: string;
  baseUrl: string | null;
  version: number;
  createdAt: Date;
}

/** The provider's own list request and how to read its answer (documented list endpoints). */
function listRequest(kind: ProviderKind, baseUrl: string, apiKey: string): { url: string; headers: Record<string, string>; read: (json: any) => string[] } {
  switch (kind) {
    // https://platform.claude.com/docs/en/api/models/list
    case 'anthropic':
      return { url: joinUrl(baseUrl, '/models?limit=1000'), headers: { 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' }, read: (j) => (j?.data ?? []).map((m: any) => String(m.id)) };
    // https://ai.google.dev/api/models#method:-models.list — names are "models/<id>".
    case 'gemini':
      return { url: joinUrl(baseUrl, '/models?pageSize=1000'), headers: { 'x-goog-api-key': apiKey }, read: (j) => (j?.models ?? []).map((m: any) => String(m.name).replace(/^models\//, '')) };
    // https://platform.openai.com/docs/api-reference/models/list
    default:
      return { url: joinUrl(baseUrl, '/models'), headers: { authorization: `Bearer ${apiKey}` }, read: (j) => (j?.data ?? []).map((m: any) => String(m.id)) };
  }
}

async function fetchList(deps: ModelFetchDeps, userId: string, key: KeyRow, catalogBaseUrl: string | null): Promise<string[] | undefined> {
  const baseUrl = key.baseUrl ?? catalogBaseUrl;
  if (!baseUrl) return undefined;
  const cacheKey = `${key.id}|${key.version}`;
  const hit = lists.get(cacheKey);
  if (hit && hit.until > Date.now()) return hit.models;
  let secret: Buffer | undefined;
  try {
    if (key.baseUrl) await deps.urlGuard.check(baseUrl);
    secret = await deps.keyEncryptor.decrypt(key.encryptedKey, byokAad(userId, key.provider, key.id));
    const req = listRequest(key.provider as ProviderKind, baseUrl, secret.toString('utf8'));
    const res = await (key.baseUrl ? deps.urlGuard.fetch : fetch)(req.url, { headers: req.headers, redirect: 'manual', signal: AbortSignal.timeout(deps.timeoutMs ?? 5_000) });
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      return undefined;
    }
    const models = [...new Set(req.read(await readJsonCapped(res)).filter((m) => m && m.length <= 200))].sort();
    if (lists.size >= LIST_CACHE_MAX) lists.delete(lists.keys().next().value!);
    lists.set(cacheKey, { models, until: Date.now() + LIST_TTL_MS });
    return models;
  } catch {
    return undefined;
  } finally {
    secret?.fill(0);
  }
}

/** The caller's routes as the database holds them: enabled catalog models, the caller's keys, catalog base URLs. */
export interface CallerRoutes {
  catalog: { provider: string; model: string; created: Date }[];
  keys: KeyRow[];
  bases: { id: string; baseUrl: string | null }[];
}

export async function callerRoutes(tx: Tx, t: Tenant): Promise<CallerRoutes> {
  const catalog = await tx.select({ provider: providers.id, model: providerModels.model, created: providerModels.createdAt })
    .from(providerModels).innerJoin(providers, eq(providers.id, providerModels.providerId))
    .where(and(eq(providers.enabled, true), eq(providerModels.enabled, true)))
    .orderBy(asc(providers.id), asc(providerModels.model));
  const keys: KeyRow[] = await tx.select({
    id: userProviders.id, name: userProviders.name, provider: userProviders.provider, catalogProviderId: userProviders.catalogProviderId,
    encryptedKey: userProviders.encryptedKey, baseUrl: userProviders.baseUrl, version: userProviders.version, createdAt: userProviders.createdAt,
  }).from(userProviders)
    .where(and(eq(userProviders.userId, t.userId), isNull(userProviders.deletedAt), ne(userProviders.status, 'revoked')))
    .orderBy(asc(userProviders.name));
  const bases = await tx.select({ id: providers.id, baseUrl: providers.baseUrl }).from(providers);
  return { catalog, keys, bases };
}

/**
 * Every model id the caller can address, catalog routes first, then their keys' routes (each key's
 * provider list fetched over the network: call it after the transaction that read `routes`).
 */
export async function addressableModels(deps: ModelFetchDeps, t: Pick<Tenant, 'userId'>, routes: CallerRoutes): Promise<Addressable[]> {
  const { catalog, keys, bases } = routes;
  const seen = new Set<string>();
  const out: Addressable[] = [];
  const add = (route: string, model: string, created: Date, source: Addressable['source'], platform: boolean) => {
    const id = `${route}/${model}`;
    if (seen.has(id)) return;
    seen.add(id);
    out.push({ id, object: 'model', created: Math.floor(created.getTime() / 1000), owned_by: route, route, model, source, platform });
  };
  // A catalog route uses the caller's own key for that provider when there is one (resolve.ts), so
  // it is the same route as `<key name>/<model>`; otherwise the platform's key serves it.
  const own = new Set(keys.map((k) => k.catalogProviderId).filter(Boolean));
  for (const r of catalog) add(r.provider, r.model, r.created, 'catalog', !own.has(r.provider) && Boolean(deps.platformKeys[r.provider]));
  const baseOf = new Map(bases.map((b) => [b.id, b.baseUrl]));
  const listed = await Promise.all(keys.map((k) => fetchList(deps, t.userId, k, k.catalogProviderId ? (baseOf.get(k.catalogProviderId) ?? null) : null)));
  keys.forEach((k, i) => {
    const models = listed[i] ?? catalog.filter((c) => c.provider === k.catalogProviderId).map((c) => c.model);
    for (const m of models) add(k.name, m, k.createdAt, 'key', false);
  });
  return out;
}

/** After a key or catalog change: its routes may differ (lists are keyed by key version, bare names are not). */
export function forgetModelLists(): void {
  lists.clear();
  bare.clear();
}
onRoutesChanged(forgetModelLists);

/**
 * A bare model name (`gpt-4o-mini`) → the one route of the caller that offers it: the caller's own
 * keys' routes and the catalog routes the platform serves. None or several answer 404 naming them.
 */
export async function qualifyModel(deps: ModelListDeps, p: Principal, name: string): Promise<string | { candidates: string[] }> {
  const cacheKey = `${p.userId}|${name}`;
  const hit = bare.get(cacheKey);
  if (hit && hit.until > Date.now()) return hit.id;
  // The gateway's entry (route-model.ts passes deps with the pool): the one read of this file that
  // opens its own transaction, committed before the providers' lists are fetched.
  const routes = await withTenant(deps.database, p, (tx) => callerRoutes(tx, p));
  const candidates = (await addressableModels(deps, p, routes)).filter((m) => m.model === name && (m.source === 'key' || m.platform));
  if (candidates.length !== 1) return { candidates: candidates.map((c) => c.id) };
  if (bare.size >= LIST_CACHE_MAX) bare.delete(bare.keys().next().value!);
  bare.set(cacheKey, { id: candidates[0]!.id, until: Date.now() + BARE_TTL_MS });
  return candidates[0]!.id;
}

/** Bare names resolved per instance for BARE_TTL_MS (the hot path asks again only after it). */
const BARE_TTL_MS = 30_000;
const bare = new Map<string, { id: string; until: number }>();
