import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { analysisStatuses, analysisTaskTypes } from '../../../drizzle/schema/production.js';
import { jsonBody, paginationQuery } from '../../shared/http/index.js';
import type { ProjectsEnv } from '../app.js';
import * as svc from '../service/analysis.js';
import { ReviewSchema, reviewOut, SessionSchema, sessionOut, TaskSchema, taskOut } from './lifecycle-shapes.js';
import { errors, idParams, jsonObject, listOf, ok, pageOut, signedIn, text, tx, uuid } from './support.js';

const CreateSessionBody = z.object({ version_id: uuid }).strict().openapi('CreateAnalysisSession');
const CreateTaskBody = z.object({ type: z.enum(analysisTaskTypes) }).strict().openapi('CreateAnalysisTask');
const MoveTaskBody = z
  .object({ status: z.enum(['running', 'completed', 'failed', 'cancelled']), result: jsonObject.optional(), error: text(8000).optional() })
  .strict()
  .openapi('MoveAnalysisTask');
const ReviewBody = z
  .object({ score: z.number().int().min(0).max(100), findings: z.array(z.unknown()).max(10_000), reviewer: text(300).optional() })
  .strict()
  .openapi('CreateCodeReviewResult');
const SessionDetail = SessionSchema.extend({ tasks: z.array(TaskSchema) }).openapi('AnalysisSessionDetail');
const sessionTask = z.object({ id: uuid, tid: uuid });

const tags = ['analysis'];

const create = createRoute({ method: 'post', path: '/projects/{id}/analysis-sessions', tags, ...signedIn({ role: 'member' }), request: { params: idParams, body: jsonBody(CreateSessionBody) }, responses: { 201: ok(SessionSchema, 'Created (pending) on a v2 version'), ...errors } });
const list = createRoute({ method: 'get', path: '/projects/{id}/analysis-sessions', tags, ...signedIn({ role: 'viewer' }), request: { params: idParams, query: paginationQuery.extend({ status: z.enum(analysisStatuses).optional() }) }, responses: { 200: ok(listOf(SessionSchema)), ...errors } });
const get = createRoute({ method: 'get', path: '/analysis-sessions/{id}', tags, ...signedIn({ role: 'viewer' }), request: { params: idParams }, responses: { 200: ok(SessionDetail), ...errors } });
const addTask = createRoute({ method: 'post', path: '/analysis-sessions/{id}/tasks', tags, ...signedIn({ role: 'member' }), request: { params: idParams, body: jsonBody(CreateTaskBody) }, responses: { 201: ok(TaskSchema, 'Created (pending)'), ...errors } });
const moveTask = createRoute({
  method: 'post',
  path: '/analysis-sessions/{id}/tasks/{tid}/transition',
  tags,
  ...signedIn({ role: 'member' }),
  request: { params: sessionTask, body: jsonBody(MoveTaskBody) },
  responses: { 200: ok(SessionDetail.omit({ tasks: true }).extend({ task: TaskSchema }), 'pending → running → completed | failed | cancelled; anything else is 409'), ...errors },
});
const addReview = createRoute({ method: 'post', path: '/analysis-sessions/{id}/reviews', tags, ...signedIn({ role: 'member' }), request: { params: idParams, body: jsonBody(ReviewBody) }, responses: { 201: ok(ReviewSchema, 'Created'), ...errors } });
const listReviews = createRoute({ method: 'get', path: '/analysis-sessions/{id}/reviews', tags, ...signedIn({ role: 'viewer' }), request: { params: idParams }, responses: { 200: ok(z.object({ items: z.array(ReviewSchema) })), ...errors } });

export function registerAnalysis(app: OpenAPIHono<ProjectsEnv>): void {
  app.openapi(create, async (c) => {
    const row = await tx(c, (tx, t) => svc.createSession(tx, t, { projectId: c.req.valid('param').id, versionId: c.req.valid('json').version_id }));
    return c.json(sessionOut(row), 201);
  });
  app.openapi(list, async (c) => {
    const r = await tx(c, (tx, t) => svc.listSessions(tx, t, { projectId: c.req.valid('param').id, ...c.req.valid('query') }));
    return c.json(pageOut(r, sessionOut), 200);
  });
  app.openapi(get, async (c) => {
    const { id } = c.req.valid('param');
    const r = await tx(c, async (tx, t) => ({ session: await svc.requireSession(tx, t, { sessionId: id }), tasks: await svc.listTasks(tx, t, id) }));
    return c.json({ ...sessionOut(r.session), tasks: r.tasks.map(taskOut) }, 200);
  });
  app.openapi(addTask, async (c) => {
    const row = await tx(c, (tx, t) => svc.addTask(tx, t, { sessionId: c.req.valid('param').id, type: c.req.valid('json').type }));
    return c.json(taskOut(row), 201);
  });
  app.openapi(moveTask, async (c) => {
    const { id, tid } = c.req.valid('param');
    const r = await tx(c, (tx, t) => svc.moveTask(tx, t, { sessionId: id, taskId: tid, ...c.req.valid('json') }));
    return c.json({ ...sessionOut(r.session), task: taskOut(r.task) }, 200);
  });
  app.openapi(addReview, async (c) => {
    const row = await tx(c, (tx, t) => svc.addReview(tx, t, { sessionId: c.req.valid('param').id, ...c.req.valid('json') }));
    return c.json(reviewOut(row), 201);
  });
  app.openapi(listReviews, async (c) => {
    const rows = await tx(c, (tx, t) => svc.listReviews(tx, t, c.req.valid('param').id));
    return c.json({ items: rows.map(reviewOut) }, 200);
  });
}
