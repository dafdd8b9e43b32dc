import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { promotionStatuses } from '../../../drizzle/schema/experiments_v1.js';
import { jsonBody, paginationQuery } from '../../shared/http/index.js';
import type { ProjectsEnv } from '../app.js';
import * as blacklistSvc from '../service/blacklist.js';
import * as comparisonSvc from '../service/comparisons.js';
import * as svc from '../service/promotions.js';
import { BlacklistSchema, blacklistOut, ComparisonSchema, comparisonOut, PromotionSchema, promotionOut, QuarantineRecordSchema, recordOut } from './lifecycle-shapes.js';
import { VersionSchema, versionOut } from './shapes.js';
import { decided, decisionParams, errors, idParams, listOf, ok, optionalBody, optionalJsonBody, pageOut, signedIn, text, tx, uuid } from './support.js';

const RequestBody = z.object({ version_id: uuid, evaluation_id: uuid, reason: text(4000) }).strict().openapi('RequestPromotion');
const DecisionBody = z.object({ reason: text(4000).optional() }).strict().openapi('PromotionDecision');
const BlacklistBody = z
  .object({ config_hash: z.string().regex(/^[0-9a-fA-F]{64}$/, 'a SHA-256 in hex').transform((s) => s.toLowerCase()), reason: text(4000) })
  .strict()
  .openapi('AddToBlacklist');
const CompareBody = z.object({ base_version_id: uuid, candidate_version_id: uuid }).strict().openapi('CreateComparison');
const ApplyResult = PromotionSchema.extend({ promoted_version: VersionSchema }).openapi('AppliedPromotion');
const BlacklistResult = BlacklistSchema.extend({ quarantined: z.array(QuarantineRecordSchema) }).openapi('BlacklistResult');

const tags = ['promotions'];

const request = createRoute({ method: 'post', path: '/promotions', tags, ...signedIn({ role: 'member' }), request: { body: jsonBody(RequestBody) }, responses: { 201: ok(PromotionSchema, 'Requested'), ...errors } });
const list = createRoute({ method: 'get', path: '/promotions', tags, ...signedIn({ role: 'viewer' }), request: { query: paginationQuery.extend({ status: z.enum(promotionStatuses).optional(), project_id: uuid.optional() }) }, responses: { 200: ok(listOf(PromotionSchema)), ...errors } });
const get = createRoute({ method: 'get', path: '/promotions/{id}', tags, ...signedIn({ role: 'viewer' }), request: { params: idParams }, responses: { 200: ok(PromotionSchema), ...errors } });
const decide = createRoute({
  method: 'post',
  path: '/promotions/{id}/{decision}',
  tags,
  ...signedIn({ role: 'admin' }),
  request: { params: decisionParams, body: optionalJsonBody(DecisionBody) },
  responses: { 200: ok(PromotionSchema, 'Decided by an admin other than the requester'), ...errors },
});
const apply = createRoute({ method: 'post', path: '/promotions/{id}/apply', tags, ...signedIn({ role: 'admin' }), request: { params: idParams }, responses: { 200: ok(ApplyResult, 'Applied: the version is now in v2'), ...errors } });

const addBlacklist = createRoute({ method: 'post', path: '/blacklist', tags: ['blacklist'], ...signedIn({ role: 'admin' }), request: { body: jsonBody(BlacklistBody) }, responses: { 201: ok(BlacklistResult, 'Blacklisted; v2 versions with this hash were quarantined'), ...errors } });
const listBlacklist = createRoute({ method: 'get', path: '/blacklist', tags: ['blacklist'], ...signedIn({ role: 'viewer' }), request: { query: paginationQuery }, responses: { 200: ok(listOf(BlacklistSchema)), ...errors } });
const delBlacklist = createRoute({ method: 'delete', path: '/blacklist/{id}', tags: ['blacklist'], ...signedIn({ role: 'admin' }), request: { params: idParams }, responses: { 204: { description: 'Removed (quarantined versions stay quarantined)' }, ...errors } });

const compare = createRoute({ method: 'post', path: '/comparisons', tags: ['comparisons'], ...signedIn({ role: 'member' }), request: { body: jsonBody(CompareBody) }, responses: { 201: ok(ComparisonSchema, 'Per-metric deltas of the latest evaluations'), ...errors } });
const getComparison = createRoute({ method: 'get', path: '/comparisons/{id}', tags: ['comparisons'], ...signedIn({ role: 'viewer' }), request: { params: idParams }, responses: { 200: ok(ComparisonSchema), ...errors } });
const listComparisons = createRoute({ method: 'get', path: '/projects/{id}/comparisons', tags: ['comparisons'], ...signedIn({ role: 'viewer' }), request: { params: idParams, query: paginationQuery }, responses: { 200: ok(listOf(ComparisonSchema)), ...errors } });

export function registerPromotions(app: OpenAPIHono<ProjectsEnv>): void {
  app.openapi(request, async (c) => {
    const row = await tx(c, (tx, t) => svc.requestPromotion(tx, t, c.req.valid('json')));
    return c.json(promotionOut(row), 201);
  });
  app.openapi(list, async (c) => {
    const r = await tx(c, (tx, t) => svc.listPromotions(tx, t, c.req.valid('query')));
    return c.json(pageOut(r, promotionOut), 200);
  });
  app.openapi(get, async (c) => {
    const row = await tx(c, (tx, t) => svc.requirePromotion(tx, t, c.req.valid('param').id));
    return c.json(promotionOut(row), 200);
  });
  app.openapi(apply, async (c) => {
    const r = await tx(c, (tx, t) => svc.applyPromotion(tx, t, c.req.valid('param').id));
    return c.json({ ...promotionOut(r.promotion), promoted_version: versionOut(r.version) }, 200);
  });
  app.openapi(decide, async (c) => {
    const { id, decision } = c.req.valid('param');
    const body = optionalBody(c, DecisionBody);
    const row = await tx(c, (tx, t) => svc.decidePromotion(tx, t, { promotionId: id, to: decided[decision], reason: body.reason ?? null }));
    return c.json(promotionOut(row), 200);
  });

  app.openapi(addBlacklist, async (c) => {
    const r = await tx(c, (tx, t) => blacklistSvc.addToBlacklist(tx, t, c.req.valid('json')));
    return c.json({ ...blacklistOut(r.entry), quarantined: r.records.map(recordOut) }, 201);
  });
  app.openapi(listBlacklist, async (c) => {
    const r = await tx(c, (tx, t) => blacklistSvc.listBlacklist(tx, t, c.req.valid('query')));
    return c.json(pageOut(r, blacklistOut), 200);
  });
  app.openapi(delBlacklist, async (c) => {
    await tx(c, (tx, t) => blacklistSvc.removeFromBlacklist(tx, t, c.req.valid('param').id));
    return c.body(null, 204);
  });

  app.openapi(compare, async (c) => {
    const row = await tx(c, (tx, t) => comparisonSvc.createComparison(tx, t, c.req.valid('json')));
    return c.json(comparisonOut(row), 201);
  });
  app.openapi(getComparison, async (c) => {
    const row = await tx(c, (tx, t) => comparisonSvc.requireComparison(tx, t, c.req.valid('param').id));
    return c.json(comparisonOut(row), 200);
  });
  app.openapi(listComparisons, async (c) => {
    const r = await tx(c, (tx, t) => comparisonSvc.listComparisons(tx, t, { projectId: c.req.valid('param').id, ...c.req.valid('query') }));
    return c.json(pageOut(r, comparisonOut), 200);
  });
}
