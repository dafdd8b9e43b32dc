import { createRoute, z } from '@hono/zod-openapi';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { inTenant, isoDateTime, jsonBody, paginationQuery, problemResponses, text } from '../../shared/http/index.js';
import type { ProvidersEnv } from '../app.js';
import { API_KEY_SCOPES, createApiKey, forgetApiKey, listApiKeys, revokeApiKey } from '../service/api-keys.js';
import { userOnly } from './auth.js';
import { IdParam, json, noContent } from './schemas.js';
import { ApiKeyCreatedSchema, ApiKeySchema } from './shapes.js';
import { listOf } from '../../shared/http/openapi.js';

const create = createRoute({
  method: 'post',
  path: '/api-keys', ...userOnly(),
  request: { body: jsonBody(z.object({ name: text(100), scopes: z.array(z.enum(API_KEY_SCOPES)).max(10).optional(), expires_at: isoDateTime().nullish() })) },
  responses: { 201: json(ApiKeyCreatedSchema, 'Created; `key` is shown only in this response'), ...problemResponses },
});
const list = createRoute({ method: 'get', path: '/api-keys', ...userOnly(), request: { query: paginationQuery }, responses: { 200: json(listOf(ApiKeySchema)), ...problemResponses } });
const revoke = createRoute({ method: 'delete', path: '/api-keys/{id}', ...userOnly(), request: { params: IdParam }, responses: { 204: noContent, ...problemResponses } });

export function registerApiKeys(app: OpenAPIHono<ProvidersEnv>): void {
  app.openapi(create, async (c) => {
    const created = await inTenant(c, (tx, t) => createApiKey(tx, t, c.req.valid('json')));
    c.header('cache-control', 'no-store');
    return c.json(created, 201);
  });
  app.openapi(list, async (c) => c.json(await inTenant(c, (tx, t) => listApiKeys(tx, t, c.req.valid('query'))), 200));
  app.openapi(revoke, async (c) => {
    const { id } = c.req.valid('param');
    await inTenant(c, (tx, t) => revokeApiKey(tx, t, id));
    forgetApiKey(id);
    return c.body(null, 204);
  });
}
