import { createRoute, z } from '@hono/zod-openapi';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { expectedVersion, jsonBody, problemResponses, setEtag } from '../../shared/http/index.js';
import type { ProvidersEnv } from '../app.js';
import { getOrgQuota, getQuota, putQuota } from '../service/quotas.js';
import { gatewayCaller, userOnly } from './auth.js';
import { json, Uuid } from './schemas.js';
import { OrgQuotaSchema, UserQuotaSchema } from './shapes.js';
import { moreProblems } from '../../shared/http/openapi.js';

const Limit = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).nullish();
const Limits = z.object({ daily_token_limit: Limit, monthly_token_limit: Limit, daily_cost_limit_micros: Limit, monthly_cost_limit_micros: Limit });
const UserParam = z.object({ user_id: Uuid.openapi({ param: { name: 'user_id', in: 'path' } }) });

const mine = createRoute({ method: 'get', path: '/quotas', ...gatewayCaller('usage'), responses: { 200: json(UserQuotaSchema), ...problemResponses } });
const ofUser = createRoute({ method: 'get', path: '/quotas/users/{user_id}', ...userOnly(), request: { params: UserParam }, responses: { 200: json(UserQuotaSchema), ...problemResponses } });
const putUser = createRoute({
  method: 'put', path: '/quotas/users/{user_id}', ...userOnly(),
  request: { params: UserParam, body: jsonBody(Limits) },
  responses: { 200: json(UserQuotaSchema), ...problemResponses, 412: moreProblems[412] },
});
const ofOrg = createRoute({ method: 'get', path: '/quotas/org', ...userOnly(), responses: { 200: json(OrgQuotaSchema), ...problemResponses } });
const putOrg = createRoute({
  method: 'put', path: '/quotas/org', ...userOnly(),
  request: { body: jsonBody(Limits) },
  responses: { 200: json(OrgQuotaSchema), ...problemResponses, 412: moreProblems[412] },
});

export function registerQuotas(app: OpenAPIHono<ProvidersEnv>): void {
  app.openapi(mine, async (c) => {
    const q = await getQuota(c.var.database, c.var.principal, c.var.principal.userId);
    return c.json(q, 200);
  });
  app.openapi(ofUser, async (c) => {
    const q = await getQuota(c.var.database, c.var.principal, c.req.valid('param').user_id);
    setEtag(c, q.version);
    return c.json(q, 200);
  });
  app.openapi(putUser, async (c) => {
    const userId = c.req.valid('param').user_id;
    const ifMatch = c.req.header('if-match') ? expectedVersion(c) : undefined;
    await putQuota(c.var.database, c.var.principal, { type: 'user', id: userId }, c.req.valid('json'), ifMatch);
    const q = await getQuota(c.var.database, c.var.principal, userId);
    setEtag(c, q.version);
    return c.json(q, 200);
  });
  app.openapi(ofOrg, async (c) => {
    const q = await getOrgQuota(c.var.database, c.var.principal);
    setEtag(c, q.version);
    return c.json(q, 200);
  });
  app.openapi(putOrg, async (c) => {
    const ifMatch = c.req.header('if-match') ? expectedVersion(c) : undefined;
    await putQuota(c.var.database, c.var.principal, { type: 'org', id: c.var.principal.orgId }, c.req.valid('json'), ifMatch);
    const q = await getOrgQuota(c.var.database, c.var.principal);
    setEtag(c, q.version);
    return c.json(q, 200);
  });
}
