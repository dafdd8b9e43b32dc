import { createRoute, z } from '@hono/zod-openapi';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { expectedVersion, inSystem, inTenant, jsonBody, problemResponses, setEtag, tenantOf } from '../../shared/http/index.js';
import type { ProvidersEnv } from '../app.js';
import { assertPlatformAdmin, listCatalog, modelPrices, providerHealthReport, updateProvider, upsertModel, vetProviderPatch } from '../service/catalog.js';
import { forgetRoutes } from '../service/resolve.js';
import { userOnly } from './auth.js';
import { json } from './schemas.js';
import { CatalogEntrySchema, CatalogModelSchema, CatalogProviderSchema, ProviderHealthSchema } from './shapes.js';
import { moreProblems } from '../../shared/http/openapi.js';

const ProviderId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/);

const list = createRoute({ method: 'get', path: '/providers', ...userOnly(), responses: { 200: json(z.object({ items: z.array(CatalogEntrySchema) })), ...problemResponses } });
const health = createRoute({ method: 'get', path: '/providers/health', ...userOnly(), responses: { 200: json(z.object({ items: z.array(ProviderHealthSchema) })), ...problemResponses } });
const patch = createRoute({
  method: 'patch',
  path: '/providers/{id}', ...userOnly(),
  request: {
    params: z.object({ id: ProviderId }),
    body: jsonBody(z.object({ display_name: z.string().min(1).max(100).optional(), base_url: z.string().url().max(2000).nullable().optional(), enabled: z.boolean().optional() })),
  },
  responses: { 200: json(CatalogProviderSchema), ...problemResponses, 412: moreProblems[412], 428: moreProblems[428] },
});
const putModel = createRoute({
  method: 'put',
  path: '/providers/{id}/models/{model}', ...userOnly(),
  request: {
    params: z.object({ id: ProviderId, model: z.string().min(1).max(200) }),
    body: jsonBody(z.object({
      input_price_micros_per_mtok: z.number().int().nonnegative(),
      output_price_micros_per_mtok: z.number().int().nonnegative(),
      // Per token class; null or absent bills that class at the input (cache) or output (reasoning) price.
      cached_input_price_micros_per_mtok: z.number().int().nonnegative().nullable().optional(),
      cache_write_price_micros_per_mtok: z.number().int().nonnegative().nullable().optional(),
      reasoning_price_micros_per_mtok: z.number().int().nonnegative().nullable().optional(),
      context_window: z.number().int().positive().nullable().optional(),
      max_output_tokens: z.number().int().positive().nullable().optional(),
      enabled: z.boolean().optional(),
    })),
  },
  responses: { 200: json(CatalogModelSchema), ...problemResponses },
});

export function registerCatalog(app: OpenAPIHono<ProvidersEnv>): void {
  app.openapi(list, async (c) => c.json({ items: await inTenant(c, (tx, t) => listCatalog(tx, t)) }, 200));
  app.openapi(health, async (c) => c.json(await inTenant(c, (tx, t) => providerHealthReport(tx, t)), 200));
  app.openapi(patch, async (c) => {
    const { id } = c.req.valid('param');
    const expected = expectedVersion(c);
    assertPlatformAdmin(c.var.principal);
    const body = c.req.valid('json');
    await vetProviderPatch(body, c.var.config.NODE_ENV === 'production');
    const actor = tenantOf(c.var.principal);
    const row = await inSystem(c, (tx) => updateProvider(tx, actor, { id, expected, patch: body }), { actorId: actor.userId });
    forgetRoutes();
    setEtag(c, row.version);
    return c.json({ id: row.id, kind: row.kind, display_name: row.displayName, base_url: row.baseUrl, enabled: row.enabled, version: row.version }, 200);
  });
  app.openapi(putModel, async (c) => {
    assertPlatformAdmin(c.var.principal);
    const { id, model } = c.req.valid('param');
    const actor = tenantOf(c.var.principal);
    const row = await inSystem(c, (tx) => upsertModel(tx, actor, { providerId: id, model, prices: c.req.valid('json') }), { actorId: actor.userId });
    forgetRoutes();
    return c.json({ provider_id: row.providerId, model: row.model, ...modelPrices(row), context_window: row.contextWindow, max_output_tokens: row.maxOutputTokens, enabled: row.enabled, version: row.version }, 200);
  });
}
