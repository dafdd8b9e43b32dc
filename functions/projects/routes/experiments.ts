import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { evaluationVerdicts, experimentStatuses } from '../../../drizzle/schema/experiments_v1.js';
import { expectedVersion, jsonBody, paginationQuery, setEtag } from '../../shared/http/index.js';
import type { ProjectsEnv } from '../app.js';
import * as svc from '../service/experiments.js';
import { EvaluationSchema, evaluationOut, ExperimentSchema, experimentOut } from './lifecycle-shapes.js';
import { errors, idParams, jsonObject, listOf, lockErrors, ok, pageOut, signedIn, text, tx, uuid } from './support.js';

const CreateExperimentBody = z
  .object({ version_id: uuid, name: text(200), hypothesis: text(4000, 0).nullable().optional(), config: jsonObject.optional() })
  .strict()
  .openapi('CreateExperiment');
const PatchExperimentBody = z
  .object({ name: text(200).optional(), hypothesis: text(4000, 0).nullable().optional(), config: jsonObject.optional() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field')
  .openapi('PatchExperiment');
const metrics = z.record(text(200), z.number());
const CreateEvaluationBody = z
  .object({
    metrics,
    ai_verdict: z.enum(evaluationVerdicts),
    ai_rationale: text(8000, 0).nullable().optional(),
    human_override: z.enum(evaluationVerdicts).optional(),
    human_override_reason: text(4000).optional(),
  })
  .strict()
  .refine((b) => !b.human_override || b.human_override_reason, { message: 'a human override needs a reason', path: ['human_override_reason'] })
  .openapi('CreateEvaluation');
const OverrideBody = z.object({ verdict: z.enum(evaluationVerdicts), reason: text(4000) }).strict().openapi('OverrideEvaluation');

const tags = ['experiments'];

const create = createRoute({ method: 'post', path: '/projects/{id}/experiments', tags, ...signedIn({ role: 'member' }), request: { params: idParams, body: jsonBody(CreateExperimentBody) }, responses: { 201: ok(ExperimentSchema, 'Created (draft)'), ...errors } });
const list = createRoute({ method: 'get', path: '/projects/{id}/experiments', tags, ...signedIn({ role: 'viewer' }), request: { params: idParams, query: paginationQuery.extend({ status: z.enum(experimentStatuses).optional(), version_id: uuid.optional() }) }, responses: { 200: ok(listOf(ExperimentSchema)), ...errors } });
const get = createRoute({ method: 'get', path: '/experiments/{id}', tags, ...signedIn({ role: 'viewer' }), request: { params: idParams }, responses: { 200: ok(ExperimentSchema), ...errors } });
const patch = createRoute({ method: 'patch', path: '/experiments/{id}', tags, ...signedIn({ role: 'member' }), request: { params: idParams, body: jsonBody(PatchExperimentBody) }, responses: { 200: ok(ExperimentSchema), ...lockErrors } });
const del = createRoute({ method: 'delete', path: '/experiments/{id}', tags, ...signedIn({ role: 'admin' }), request: { params: idParams }, responses: { 204: { description: 'Deleted (soft)' }, ...lockErrors } });
const move = createRoute({
  method: 'post',
  path: '/experiments/{id}/{action}',
  tags,
  ...signedIn({ role: 'member' }),
  request: { params: z.object({ id: uuid, action: z.enum(['start', 'complete', 'abort']) }) },
  responses: { 200: ok(ExperimentSchema, 'draft → running (start) → completed (complete); draft|running → aborted (abort)'), ...errors },
});
const evaluate = createRoute({ method: 'post', path: '/experiments/{id}/evaluations', tags, ...signedIn({ role: 'member' }), request: { params: idParams, body: jsonBody(CreateEvaluationBody) }, responses: { 201: ok(EvaluationSchema, 'Created'), ...errors } });
const listEvaluations = createRoute({ method: 'get', path: '/experiments/{id}/evaluations', tags, ...signedIn({ role: 'viewer' }), request: { params: idParams, query: paginationQuery }, responses: { 200: ok(listOf(EvaluationSchema)), ...errors } });
const getEvaluation = createRoute({ method: 'get', path: '/evaluations/{id}', tags, ...signedIn({ role: 'viewer' }), request: { params: idParams }, responses: { 200: ok(EvaluationSchema), ...errors } });
const override = createRoute({ method: 'post', path: '/evaluations/{id}/override', tags, ...signedIn({ role: 'member' }), request: { params: idParams, body: jsonBody(OverrideBody) }, responses: { 200: ok(EvaluationSchema, 'The override wins; the AI verdict is kept'), ...errors } });

const TARGET = { start: 'running', complete: 'completed', abort: 'aborted' } as const;

export function registerExperiments(app: OpenAPIHono<ProjectsEnv>): void {
  app.openapi(create, async (c) => {
    const row = await tx(c, (tx, t) => svc.createExperiment(tx, t, { projectId: c.req.valid('param').id, ...c.req.valid('json') }));
    setEtag(c, row.version);
    return c.json(experimentOut(row), 201);
  });
  app.openapi(list, async (c) => {
    const r = await tx(c, (tx, t) => svc.listExperiments(tx, t, { projectId: c.req.valid('param').id, ...c.req.valid('query') }));
    return c.json(pageOut(r, experimentOut), 200);
  });
  app.openapi(get, async (c) => {
    const row = await tx(c, (tx, t) => svc.requireExperiment(tx, t, c.req.valid('param').id));
    setEtag(c, row.version);
    return c.json(experimentOut(row), 200);
  });
  app.openapi(patch, async (c) => {
    const body = c.req.valid('json');
    const expected = expectedVersion(c);
    const row = await tx(c, (tx, t) => svc.updateExperiment(tx, t, { experimentId: c.req.valid('param').id, expectedVersion: expected, patch: body }));
    setEtag(c, row.version);
    return c.json(experimentOut(row), 200);
  });
  app.openapi(del, async (c) => {
    const expected = expectedVersion(c);
    await tx(c, (tx, t) => svc.deleteExperiment(tx, t, { experimentId: c.req.valid('param').id, expectedVersion: expected }));
    return c.body(null, 204);
  });
  app.openapi(evaluate, async (c) => {
    const row = await tx(c, (tx, t) => svc.createEvaluation(tx, t, { experimentId: c.req.valid('param').id, ...c.req.valid('json') }));
    return c.json(evaluationOut(row), 201);
  });
  app.openapi(listEvaluations, async (c) => {
    const r = await tx(c, (tx, t) => svc.listEvaluations(tx, t, { experimentId: c.req.valid('param').id, ...c.req.valid('query') }));
    return c.json(pageOut(r, evaluationOut), 200);
  });
  app.openapi(getEvaluation, async (c) => {
    const row = await tx(c, (tx, t) => svc.requireEvaluation(tx, t, c.req.valid('param').id));
    return c.json(evaluationOut(row), 200);
  });
  app.openapi(override, async (c) => {
    const row = await tx(c, (tx, t) => svc.overrideEvaluation(tx, t, { evaluationId: c.req.valid('param').id, ...c.req.valid('json') }));
    return c.json(evaluationOut(row), 200);
  });
  // Last: its {action} segment would otherwise shadow /experiments/{id}/evaluations.
  app.openapi(move, async (c) => {
    const { id, action } = c.req.valid('param');
    const row = await tx(c, (tx, t) => svc.moveExperiment(tx, t, { experimentId: id, to: TARGET[action] }));
    setEtag(c, row.version);
    return c.json(experimentOut(row), 200);
  });
}
