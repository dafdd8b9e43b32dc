import { createRoute, z } from '@hono/zod-openapi';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { expectedVersion, inTenant, jsonBody, problemResponses, setEtag } from '../../shared/http/index.js';
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
  app.openapi(mine, async (c) => c.json(await inTenant(c, (tx, t) => getQuota(tx, t, t.userId)), 200));
  app.openapi(ofUser, async (c) => {
    const q = await inTenant(c, (tx, t) => getQuota(tx, t, c.req.valid('param').user_id));
    setEtag(c, q.version);
    return c.json(q, 200);
  });
  // The new limits and the answer read back in one transaction.
  app.openapi(putUser, async (c) => {
    const userId = c.req.valid('param').user_id;
    const expected = c.req.header('if-match') ? expectedVersion(c) : undefined;
    const q = await inTenant(c, async (tx, t) => {
      await putQuota(tx, t, { subject: { type: 'user', id: userId }, limits: c.req.valid('json'), expected });
      return getQuota(tx, t, userId);
    });
    setEtag(c, q.version);
    return c.json(q, 200);
  });
  app.openapi(ofOrg, async (c) => {
    const q = await inTenant(c, (tx, t) => getOrgQuota(tx, t));
    setEtag(c, q.version);
    return c.json(q, 200);
  });
  app.openapi(putOrg, async (c) => {
    const expected = c.req.header('if-match') ? expectedVersion(c) : undefined;
    const q = await inTenant(c, async (tx, t) => {
      await putQuota(tx, t, { subject: { type: 'org', id: t.orgId }, limits: c.req.valid('json'), expected });
      return getOrgQuota(tx, t);
    });
    setEtag(c, q.version);
    return c.json(q, 200);
  });
}
