import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { jsonBody, paginationQuery } from '../../shared/http/index.js';
import type { ProjectsEnv } from '../app.js';
import * as svc from '../service/quarantine.js';
import { QuarantineRecordSchema, recordOut, ReevaluationSchema, reevaluationOut } from './lifecycle-shapes.js';
import { VersionSchema, versionOut } from './shapes.js';
import { decided, decisionParams, errors, idParams, jsonObject, listOf, ok, optionalBody, optionalJsonBody, pageOut, signedIn, text, tx, uuid } from './support.js';

const QuarantineBody = z.object({ reason: text(4000), evidence: jsonObject.optional() }).strict().openapi('QuarantineVersion');
const PatchRecordBody = z.object({ reason: text(4000).optional(), evidence: jsonObject.optional() }).strict().openapi('PatchQuarantineRecord');
const ReevaluationBody = z.object({ reason: text(4000) }).strict().openapi('RequestReevaluation');
const DecisionBody = z.object({ reason: text(4000).optional() }).strict().openapi('ReevaluationDecision');
const StatsSchema = z
  .object({ total_records: z.number().int(), pending_requests: z.number().int(), approved_requests: z.number().int(), rejected_requests: z.number().int(), last_quarantined_at: z.string().nullable() })
  .openapi('QuarantineStats');
const DecisionResult = ReevaluationSchema.extend({ new_version: VersionSchema.nullable() }).openapi('ReevaluationDecisionResult');

const tags = ['quarantine'];

const quarantineVersion = createRoute({
  method: 'post',
  path: '/projects/{id}/versions/{vid}/quarantine',
  tags,
  ...signedIn({ role: 'admin' }),
  request: { params: z.object({ id: uuid, vid: uuid }), body: jsonBody(QuarantineBody) },
  responses: { 201: ok(QuarantineRecordSchema, 'Degraded to v3 with an immutable record'), ...errors },
});
const stats = createRoute({ method: 'get', path: '/quarantine/stats', tags, ...signedIn({ role: 'viewer' }), responses: { 200: ok(StatsSchema, 'From the quarantine.quarantine_stats view'), ...errors } });
const list = createRoute({ method: 'get', path: '/quarantine', tags, ...signedIn({ role: 'viewer' }), request: { query: paginationQuery.extend({ project_id: uuid.optional() }) }, responses: { 200: ok(listOf(QuarantineRecordSchema)), ...errors } });
const get = createRoute({ method: 'get', path: '/quarantine/{id}', tags, ...signedIn({ role: 'viewer' }), request: { params: idParams }, responses: { 200: ok(QuarantineRecordSchema), ...errors } });
const patch = createRoute({ method: 'patch', path: '/quarantine/{id}', tags, ...signedIn({ role: 'admin' }), request: { params: idParams, body: jsonBody(PatchRecordBody) }, responses: { ...errors } });
const del = createRoute({ method: 'delete', path: '/quarantine/{id}', tags, ...signedIn({ role: 'admin' }), request: { params: idParams }, responses: { ...errors } });
const request = createRoute({ method: 'post', path: '/quarantine/{id}/reevaluations', tags, ...signedIn({ role: 'member' }), request: { params: idParams, body: jsonBody(ReevaluationBody) }, responses: { 201: ok(ReevaluationSchema, 'Requested (pending)'), ...errors } });
const listRequests = createRoute({ method: 'get', path: '/quarantine/{id}/reevaluations', tags, ...signedIn({ role: 'viewer' }), request: { params: idParams, query: paginationQuery }, responses: { 200: ok(listOf(ReevaluationSchema)), ...errors } });
const getRequest = createRoute({ method: 'get', path: '/reevaluations/{id}', tags, ...signedIn({ role: 'viewer' }), request: { params: idParams }, responses: { 200: ok(ReevaluationSchema), ...errors } });
const decide = createRoute({
  method: 'post',
  path: '/reevaluations/{id}/{decision}',
  tags,
  ...signedIn({ role: 'admin' }),
  request: { params: decisionParams, body: optionalJsonBody(DecisionBody) },
  responses: { 200: ok(DecisionResult, 'pending → approved (a new v1 version from the quarantined config) | rejected'), ...errors },
});

export function registerQuarantine(app: OpenAPIHono<ProjectsEnv>): void {
  app.openapi(quarantineVersion, async (c) => {
    const { id, vid } = c.req.valid('param');
    const row = await tx(c, (tx, t) => svc.quarantineById(tx, t, { projectId: id, versionId: vid, ...c.req.valid('json') }));
    return c.json(recordOut(row), 201);
  });
  // Before /quarantine/{id}, which would take "stats" for an id.
  app.openapi(stats, async (c) => c.json(await tx(c, (tx, t) => svc.quarantineStats(tx, t)), 200));
  app.openapi(list, async (c) => {
    const r = await tx(c, (tx, t) => svc.listRecords(tx, t, c.req.valid('query')));
    return c.json(pageOut(r, recordOut), 200);
  });
  app.openapi(get, async (c) => c.json(recordOut(await tx(c, (tx, t) => svc.requireRecord(tx, t, c.req.valid('param').id))), 200));
  app.openapi(patch, async (c) => {
    const body = c.req.valid('json');
    return tx(c, (tx, t) => svc.attemptRecordChange(tx, t, { recordId: c.req.valid('param').id, change: { kind: 'update', ...body } }));
  });
  app.openapi(del, async (c) => tx(c, (tx, t) => svc.attemptRecordChange(tx, t, { recordId: c.req.valid('param').id, change: { kind: 'delete' } })));
  app.openapi(request, async (c) => {
    const row = await tx(c, (tx, t) => svc.requestReevaluation(tx, t, { recordId: c.req.valid('param').id, reason: c.req.valid('json').reason }));
    return c.json(reevaluationOut(row), 201);
  });
  app.openapi(listRequests, async (c) => {
    const r = await tx(c, (tx, t) => svc.listReevaluations(tx, t, { recordId: c.req.valid('param').id, ...c.req.valid('query') }));
    return c.json(pageOut(r, reevaluationOut), 200);
  });
  app.openapi(getRequest, async (c) => {
    const r = await tx(c, (tx, t) => svc.requireReevaluation(tx, t, c.req.valid('param').id));
    return c.json(reevaluationOut(r.request), 200);
  });
  app.openapi(decide, async (c) => {
    const { id, decision } = c.req.valid('param');
    const body = optionalBody(c, DecisionBody);
    const r = await tx(c, (tx, t) => svc.decideReevaluation(tx, t, { requestId: id, to: decided[decision], reason: body.reason ?? null }));
    return c.json({ ...reevaluationOut(r.request), new_version: r.version ? versionOut(r.version) : null }, 200);
  });
}
