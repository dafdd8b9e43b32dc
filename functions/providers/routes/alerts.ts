import { createRoute, z } from '@hono/zod-openapi';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { expectedVersion, inTenant, jsonBody, paginationQuery, problemResponses, setEtag, tenantOf } from '../../shared/http/index.js';
import type { ProvidersEnv } from '../app.js';
import { createAlert, deleteAlert, getAlert, listAlerts, updateAlert, vetAlertPatch, vetNewAlert } from '../service/alerts.js';
import { userOnly } from './auth.js';
import { IdParam, json, noContent } from './schemas.js';
import { CostAlertSchema } from './shapes.js';
import { listOf, moreProblems } from '../../shared/http/openapi.js';

const create = createRoute({
  method: 'post', path: '/alerts', ...userOnly(),
  request: {
    body: jsonBody(z.object({
      threshold_percent: z.number().int().min(1).max(1000),
      period: z.enum(['daily', 'monthly']),
      metric: z.enum(['tokens', 'cost']),
      channel: z.enum(['webhook', 'log']),
      target: z.string().url().max(2000).nullish(),
      scope: z.enum(['user', 'org']).default('user'),
    })),
  },
  responses: { 201: json(CostAlertSchema), ...problemResponses },
});
const list = createRoute({ method: 'get', path: '/alerts', ...userOnly(), request: { query: paginationQuery }, responses: { 200: json(listOf(CostAlertSchema)), ...problemResponses } });
const get = createRoute({ method: 'get', path: '/alerts/{id}', ...userOnly(), request: { params: IdParam }, responses: { 200: json(CostAlertSchema), ...problemResponses } });
const patch = createRoute({
  method: 'patch', path: '/alerts/{id}', ...userOnly(),
  request: {
    params: IdParam,
    body: jsonBody(z.object({
      threshold_percent: z.number().int().min(1).max(1000).optional(),
      period: z.enum(['daily', 'monthly']).optional(),
      metric: z.enum(['tokens', 'cost']).optional(),
      channel: z.enum(['webhook', 'log']).optional(),
      target: z.string().url().max(2000).nullable().optional(),
      enabled: z.boolean().optional(),
    }).refine((b) => Object.keys(b).length > 0, { message: 'send at least one field to change' })),
  },
  responses: { 200: json(CostAlertSchema), ...problemResponses, 412: moreProblems[412], 428: moreProblems[428] },
});
const remove = createRoute({ method: 'delete', path: '/alerts/{id}', ...userOnly(), request: { params: IdParam }, responses: { 204: noContent, ...problemResponses, 412: moreProblems[412], 428: moreProblems[428] } });

export function registerAlerts(app: OpenAPIHono<ProvidersEnv>): void {
  app.openapi(create, async (c) => {
    const input = c.req.valid('json');
    await vetNewAlert(tenantOf(c.var.principal), input, c.var.config.NODE_ENV === 'production');
    const alert = await inTenant(c, (tx, t) => createAlert(tx, t, input));
    setEtag(c, alert.version);
    return c.json(alert, 201);
  });
  app.openapi(list, async (c) => c.json(await inTenant(c, (tx, t) => listAlerts(tx, t, c.req.valid('query'))), 200));
  app.openapi(get, async (c) => {
    const alert = await inTenant(c, (tx, t) => getAlert(tx, t, c.req.valid('param').id));
    setEtag(c, alert.version);
    return c.json(alert, 200);
  });
  app.openapi(patch, async (c) => {
    const { id } = c.req.valid('param');
    const expected = expectedVersion(c);
    const body = c.req.valid('json');
    await vetAlertPatch(body, c.var.config.NODE_ENV === 'production');
    const alert = await inTenant(c, (tx, t) => updateAlert(tx, t, { id, expected, patch: body }));
    setEtag(c, alert.version);
    return c.json(alert, 200);
  });
  app.openapi(remove, async (c) => {
    const { id } = c.req.valid('param');
    const expected = expectedVersion(c);
    await inTenant(c, (tx, t) => deleteAlert(tx, t, { id, expected }));
    return c.body(null, 204);
  });
}
