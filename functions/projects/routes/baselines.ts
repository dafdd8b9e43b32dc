import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { baselineOperators } from '../../../drizzle/schema/projects.js';
import { expectedVersion, jsonBody, paginationQuery, setEtag } from '../../shared/http/index.js';
import type { ProjectsEnv } from '../app.js';
import * as svc from '../service/baselines.js';
import { BaselineSchema, baselineOut } from './shapes.js';
import { errors, idParams, listOf, lockErrors, ok, pageOut, signedIn, text, tx, uuid } from './support.js';

const metric = text(200);
const CreateBaselineBody = z.object({ metric, operator: z.enum(baselineOperators), threshold: z.number() }).strict().openapi('CreateBaseline');
const PatchBaselineBody = z
  .object({ metric: metric.optional(), operator: z.enum(baselineOperators).optional(), threshold: z.number().optional() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field')
  .openapi('PatchBaseline');
const CheckBody = z.object({ metrics: z.record(z.string(), z.number()) }).strict().openapi('CheckBaselines');
const CheckResult = z
  .object({
    passed: z.boolean(),
    results: z.array(z.object({ metric: z.string(), operator: z.enum(baselineOperators), threshold: z.number(), value: z.number().nullable(), passed: z.boolean() })),
  })
  .openapi('BaselineCheck');
const params = z.object({ id: uuid, bid: uuid });

const createBaseline = createRoute({
  method: 'post',
  path: '/projects/{id}/baselines',
  tags: ['baselines'],
  ...signedIn({ role: 'member' }),
  request: { params: idParams, body: jsonBody(CreateBaselineBody) },
  responses: { 201: ok(BaselineSchema, 'Created'), ...errors },
});

const listBaselines = createRoute({
  method: 'get',
  path: '/projects/{id}/baselines',
  tags: ['baselines'],
  ...signedIn({ role: 'viewer' }),
  request: { params: idParams, query: paginationQuery },
  responses: { 200: ok(listOf(BaselineSchema)), ...errors },
});

const patchBaseline = createRoute({
  method: 'patch',
  path: '/projects/{id}/baselines/{bid}',
  tags: ['baselines'],
  ...signedIn({ role: 'member' }),
  request: { params, body: jsonBody(PatchBaselineBody) },
  responses: { 200: ok(BaselineSchema), ...lockErrors },
});

const deleteBaseline = createRoute({
  method: 'delete',
  path: '/projects/{id}/baselines/{bid}',
  tags: ['baselines'],
  ...signedIn({ role: 'admin' }),
  request: { params },
  responses: { 204: { description: 'Deleted' }, ...lockErrors },
});

const checkBaselines = createRoute({
  method: 'post',
  path: '/projects/{id}/baselines/check',
  tags: ['baselines'],
  ...signedIn({ role: 'viewer' }),
  request: { params: idParams, body: jsonBody(CheckBody) },
  responses: { 200: ok(CheckResult, 'Each baseline against the metrics; a missing metric fails its rule'), ...errors },
});

export function registerBaselines(app: OpenAPIHono<ProjectsEnv>): void {
  app.openapi(createBaseline, async (c) => {
    const { id } = c.req.valid('param');
    const row = await tx(c, (tx, t) => svc.createBaseline(tx, t, { projectId: id, ...c.req.valid('json') }));
    setEtag(c, row.version);
    return c.json(baselineOut(row), 201);
  });

  app.openapi(listBaselines, async (c) => {
    const { id } = c.req.valid('param');
    const r = await tx(c, (tx, t) => svc.listBaselines(tx, t, { projectId: id, ...c.req.valid('query') }));
    return c.json(pageOut(r, baselineOut), 200);
  });

  app.openapi(patchBaseline, async (c) => {
    const { id, bid } = c.req.valid('param');
    const body = c.req.valid('json');
    const expected = expectedVersion(c);
    const row = await tx(c, (tx, t) => svc.updateBaseline(tx, t, { projectId: id, baselineId: bid, expectedVersion: expected, patch: body }));
    setEtag(c, row.version);
    return c.json(baselineOut(row), 200);
  });

  app.openapi(deleteBaseline, async (c) => {
    const { id, bid } = c.req.valid('param');
    const expected = expectedVersion(c);
    await tx(c, (tx, t) => svc.deleteBaseline(tx, t, { projectId: id, baselineId: bid, expectedVersion: expected }));
    return c.body(null, 204);
  });

  app.openapi(checkBaselines, async (c) => {
    const { id } = c.req.valid('param');
    const result = await tx(c, (tx, t) => svc.checkProjectBaselines(tx, t, { projectId: id, metrics: c.req.valid('json').metrics }));
    return c.json(result, 200);
  });
}
