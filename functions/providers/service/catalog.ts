import { and, asc, eq, sql } from 'drizzle-orm';
import { providerHealth, providerHealthChecks, providerModels, providers } from '../../../drizzle/schema/providers.js';
import type { Tx } from '../../shared/db/index.js';
import { problems, type Tenant } from '../../shared/http/index.js';
import { providerProblems } from './errors.js';
import type { Principal } from '../../shared/security/tokens.js';
import { assertPublicUrl } from './ssrf.js';
import { rowsOf } from '../../shared/db/rows.js';

/**
 * The platform catalog: read by everyone (tenant transaction), edited by platform admins (the route
 * checks assertPlatformAdmin, then runs the edit as the owner role with the admin as the audited actor).
 */
export async function listCatalog(tx: Tx, _t: Tenant) {
  const rows = await tx.select().from(providers).orderBy(asc(providers.id));
  const models = await tx.select().from(providerModels).orderBy(asc(providerModels.providerId), asc(providerModels.model));
  return rows.map((r) => ({
    id: r.id, kind: r.kind, display_name: r.displayName, base_url: r.baseUrl, enabled: r.enabled, version: r.version,
    models: models.filter((m) => m.providerId === r.id).map((m) => ({
      model: m.model, ...modelPrices(m), context_window: m.contextWindow, max_output_tokens: m.maxOutputTokens, enabled: m.enabled,
    })),
  }));
}

export async function providerHealthReport(tx: Tx, _t: Tenant, input: { recent?: number } = {}) {
  const recent = input.recent ?? 10;
  const current = await tx.select().from(providerHealth).orderBy(asc(providerHealth.providerId));
  const checks = await tx.execute(sql`
    SELECT provider_id, status, latency_ms, error, checked_at FROM (
      SELECT *, row_number() OVER (PARTITION BY provider_id ORDER BY checked_at DESC) AS n FROM providers.provider_health_checks
    ) x WHERE n <= ${recent} ORDER BY provider_id, checked_at DESC`);
  const rows = rowsOf<{ provider_id: string; status: string; latency_ms: number | null; error: string | null; checked_at: Date | string }>(checks);
  void providerHealthChecks;
  return {
    items: current.map((h) => ({
      provider_id: h.providerId, status: h.status, latency_ms: h.latencyMs, checked_at: h.checkedAt?.toISOString() ?? null, last_error: h.lastError,
      recent_checks: rows.filter((c) => c.provider_id === h.providerId).map((c) => ({ status: c.status, latency_ms: c.latency_ms, error: c.error, checked_at: new Date(c.checked_at).toISOString() })),
    })),
  };
}

/** Only platform administrators, with an access token, edit the catalog. */
export function assertPlatformAdmin(p: Principal): void {
  if (!p.platformAdmin || p.via !== 'token') throw providerProblems.catalogAdminOnly();
}

export interface ProviderPatch {
  display_name?: string;
  base_url?: string | null;
  enabled?: boolean;
}

/** The DNS check of a new base URL, before the route's transaction. */
export async function vetProviderPatch(input: ProviderPatch, production: boolean): Promise<void> {
  if (input.base_url) await assertPublicUrl(input.base_url, { production });
}

/** After vetProviderPatch, in an owner transaction; the route forgets cached routes once it commits. */
export async function updateProvider(tx: Tx, t: Tenant, input: { id: string; expected: number; patch: ProviderPatch }) {
  const { id, expected, patch } = input;
  const [row] = await tx.update(providers).set({
    ...(patch.display_name !== undefined ? { displayName: patch.display_name } : {}),
    ...(patch.base_url !== undefined ? { baseUrl: patch.base_url } : {}),
    ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
    version: sql`${providers.version} + 1`, updatedBy: t.userId,
  }).where(and(eq(providers.id, id), eq(providers.version, expected))).returning();
  if (row) return row;
  const [exists] = await tx.select({ id: providers.id }).from(providers).where(eq(providers.id, id));
  throw exists ? problems.preconditionFailed() : problems.notFound('provider');
}

/** A model's prices per token class as the API shows them (null: billed at the input/output price). */
export function modelPrices(m: typeof providerModels.$inferSelect) {
  return {
    input_price_micros_per_mtok: m.inputPriceMicrosPerMtok, output_price_micros_per_mtok: m.outputPriceMicrosPerMtok,
    cached_input_price_micros_per_mtok: m.cachedInputPriceMicrosPerMtok, cache_write_price_micros_per_mtok: m.cacheWritePriceMicrosPerMtok,
    reasoning_price_micros_per_mtok: m.reasoningPriceMicrosPerMtok,
  };
}

export interface ModelInput {
  input_price_micros_per_mtok: number;
  output_price_micros_per_mtok: number;
  cached_input_price_micros_per_mtok?: number | null;
  cache_write_price_micros_per_mtok?: number | null;
  reasoning_price_micros_per_mtok?: number | null;
  context_window?: number | null;
  max_output_tokens?: number | null;
  enabled?: boolean;
}

/** In an owner transaction; the route forgets cached routes once it commits. */
export async function upsertModel(tx: Tx, t: Tenant, input: { providerId: string; model: string; prices: ModelInput }) {
  const { providerId, model, prices } = input;
  const values = {
    inputPriceMicrosPerMtok: prices.input_price_micros_per_mtok, outputPriceMicrosPerMtok: prices.output_price_micros_per_mtok,
    cachedInputPriceMicrosPerMtok: prices.cached_input_price_micros_per_mtok ?? null, cacheWritePriceMicrosPerMtok: prices.cache_write_price_micros_per_mtok ?? null,
    reasoningPriceMicrosPerMtok: prices.reasoning_price_micros_per_mtok ?? null,
    contextWindow: prices.context_window ?? null, maxOutputTokens: prices.max_output_tokens ?? null, enabled: prices.enabled ?? true, updatedBy: t.userId,
  };
  const [prov] = await tx.select({ id: providers.id }).from(providers).where(eq(providers.id, providerId));
  if (!prov) throw problems.notFound('provider');
  const [row] = await tx.insert(providerModels).values({ providerId, model, ...values, createdBy: t.userId })
    .onConflictDoUpdate({ target: [providerModels.providerId, providerModels.model], set: { ...values, version: sql`${providerModels.version} + 1` } })
    .returning();
  return row!;
}
