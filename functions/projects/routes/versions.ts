import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { versionZones } from '../../../drizzle/schema/projects.js';
import { expectedVersion, jsonBody, paginationQuery, setEtag } from '../../shared/http/index.js';
import type { ProjectsEnv } from '../app.js';
import * as svc from '../service/versions.js';
import { VersionHistorySchema, versionHistoryOut, versionOut, VersionSchema } from './shapes.js';
import { errors, idParams, jsonObject, listOf, lockErrors, ok, pageOut, signedIn, text, tx, uuid } from './support.js';

const CreateVersionBody = z.object({ config: jsonObject, notes: text(4000, 0).nullable().optional() }).strict().openapi('CreateVersion');
const PatchVersionBody = z.object({ notes: text(4000, 0).nullable() }).strict().openapi('PatchVersion');
const params = z.object({ id: uuid, vid: uuid });

const createVersion = createRoute({
  method: 'post',
  path: '/projects/{id}/versions',
  tags: ['versions'],
  ...signedIn({ role: 'member' }),
  request: { params: idParams, body: jsonBody(CreateVersionBody) },
  responses: { 201: ok(VersionSchema, 'Created in zone v1, with the SHA-256 of its canonical config'), ...errors },
});

const listVersions = createRoute({
  method: 'get',
  path: '/projects/{id}/versions',
  tags: ['versions'],
  ...signedIn({ role: 'viewer' }),
  request: { params: idParams, query: paginationQuery.extend({ zone: z.enum(versionZones).optional() }) },
  responses: { 200: ok(listOf(VersionSchema)), ...errors },
});

const getVersion = createRoute({
  method: 'get',
  path: '/projects/{id}/versions/{vid}',
  tags: ['versions'],
  ...signedIn({ role: 'viewer' }),
  request: { params },
  responses: { 200: ok(VersionSchema), ...errors },
});

const patchVersion = createRoute({
  method: 'patch',
  path: '/projects/{id}/versions/{vid}',
  tags: ['versions'],
  ...signedIn({ role: 'member' }),
  request: { params, body: jsonBody(PatchVersionBody) },
  responses: { 200: ok(VersionSchema), ...lockErrors },
});

const listHistory = createRoute({
  method: 'get',
  path: '/projects/{id}/history',
  tags: ['versions'],
  ...signedIn({ role: 'viewer' }),
  request: { params: idParams, query: paginationQuery.extend({ version_id: uuid.optional() }) },
  responses: { 200: ok(listOf(VersionHistorySchema), 'Zone changes of the project\'s versions, newest first'), ...errors },
});

export function registerVersions(app: OpenAPIHono<ProjectsEnv>): void {
  app.openapi(createVersion, async (c) => {
    const { id } = c.req.valid('param');
    const row = await tx(c, (tx, t) => svc.createVersion(tx, t, { projectId: id, ...c.req.valid('json') }));
    setEtag(c, row.version);
    return c.json(versionOut(row), 201);
  });

  app.openapi(listVersions, async (c) => {
    const { id } = c.req.valid('param');
    const r = await tx(c, (tx, t) => svc.listVersions(tx, t, { projectId: id, ...c.req.valid('query') }));
    return c.json(pageOut(r, versionOut), 200);
  });

  app.openapi(getVersion, async (c) => {
    const { id, vid } = c.req.valid('param');
    const row = await tx(c, (tx, t) => svc.requireVersion(tx, t, { versionId: vid, projectId: id }));
    setEtag(c, row.version);
    return c.json(versionOut(row), 200);
  });

  app.openapi(patchVersion, async (c) => {
    const { id, vid } = c.req.valid('param');
    const { notes } = c.req.valid('json');
    const expected = expectedVersion(c);
    const row = await tx(c, (tx, t) => svc.updateVersionNotes(tx, t, { projectId: id, versionId: vid, expectedVersion: expected, notes }));
    setEtag(c, row.version);
    return c.json(versionOut(row), 200);
  });

  app.openapi(listHistory, async (c) => {
    const { id } = c.req.valid('param');
    const r = await tx(c, (tx, t) => svc.listHistory(tx, t, { projectId: id, ...c.req.valid('query') }));
    return c.json(pageOut(r, versionHistoryOut), 200);
  });
}
