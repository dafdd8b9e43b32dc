import { and, asc, eq, sql } from 'drizzle-orm';
import { providerHealth, providerHealthChecks, providerModels, providers } from '../../../drizzle/schema/providers.js';
import { withSystem, withTenant, type Database } from '../../shared/db/index.js';
import { problems } from '../../shared/http/index.js';
import type { Principal } from '../../shared/security/tokens.js';
import { forgetRoutes } from './resolve.js';
import { assertPublicUrl } from './ssrf.js';
import { rowsOf } from '../../shared/db/rows.js';

/** The platform catalog: read by everyone, edited by platform admins (owner connection, audited with the actor). */
export async function listCatalog(database: Database, p: Principal) {
  return withTenant(database, p, async (tx) => {
    const rows = await tx.select().from(providers).orderBy(asc(providers.id));
    const models = await tx.select().from(providerModels).orderBy(asc(providerModels.providerId), asc(providerModels.model));
    return rows.map((r) => ({
      id: r.id, kind: r.kind, display_name: r.displayName, base_url: r.baseUrl, enabled: r.enabled, version: r.version,
      models: models.filter((m) => m.providerId === r.id).map((m) => ({
        model: m.model, ...modelPrices(m), context_window: m.contextWindow, max_output_tokens: m.maxOutputTokens, enabled: m.enabled,
      })),
    }));
  });
}

export async function providerHealthReport(database: Database, p: Principal, recent = 10) {
  return withTenant(database, p, async (tx) => {
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
  });
}

function assertPlatformAdmin(p: Principal) {
  if (!p.platformAdmin || p.via !== 'token') throw problems.forbidden('only platform administrators edit the catalog');
}

export async function updateProvider(database: Database, p: Principal, id: string, expected: number, input: { display_name?: string; base_url?: string | null; enabled?: boolean }, production: boolean) {
  assertPlatformAdmin(p);
  if (input.base_url) await assertPublicUrl(input.base_url, { production });
  const rows = await withSystem(database, (tx) =>
    tx.update(providers).set({
      ...(input.display_name !== undefined ? { displayName: input.display_name } : {}),
      ...(input.base_url !== undefined ? { baseUrl: input.base_url } : {}),
      ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
      version: sql`${providers.version} + 1`, updatedBy: p.userId,
    }).where(and(eq(providers.id, id), eq(providers.version, expected))).returning(), p.userId);
  if (rows[0]) {
    forgetRoutes();
    return rows[0];
  }
  const [exists] = await withSystem(database, (tx) => tx.select({ id: providers.id }).from(providers).where(eq(providers.id, id)));
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

export async function upsertModel(database: Database, p: Principal, providerId: string, model: string, input: ModelInput) {
  assertPlatformAdmin(p);
  const values = {
    inputPriceMicrosPerMtok: input.input_price_micros_per_mtok, outputPriceMicrosPerMtok: input.output_price_micros_per_mtok,
    cachedInputPriceMicrosPerMtok: input.cached_input_price_micros_per_mtok ?? null, cacheWritePriceMicrosPerMtok: input.cache_write_price_micros_per_mtok ?? null,
    reasoningPriceMicrosPerMtok: input.reasoning_price_micros_per_mtok ?? null,
    contextWindow: input.context_window ?? null, maxOutputTokens: input.max_output_tokens ?? null, enabled: input.enabled ?? true, updatedBy: p.userId,
  };
  const saved = await withSystem(database, async (tx) => {
    const [prov] = await tx.select({ id: providers.id }).from(providers).where(eq(providers.id, providerId));
    if (!prov) throw problems.notFound('provider');
    const [row] = await tx.insert(providerModels).values({ providerId, model, ...values, createdBy: p.userId })
      .onConflictDoUpdate({ target: [providerModels.providerId, providerModels.model], set: { ...values, version: sql`${providerModels.version} + 1` } })
      .returning();
    return row!;
  }, p.userId);
  forgetRoutes();
  return saved;
}
