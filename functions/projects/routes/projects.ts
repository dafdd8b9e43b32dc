import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { projectHealthStatuses, validationStatuses } from '../../../drizzle/schema/projects.js';
import { expectedVersion, jsonBody, problems, setEtag } from '../../shared/http/index.js';
import { roleAtLeast } from '../../shared/security/tokens.js';
import type { ProjectsEnv } from '../app.js';
import * as svc from '../service/projects.js';
import { projectOut, ProjectSchema } from './shapes.js';
import { booleanQuery, errors, idParams, listOf, listQuery, lockErrors, ok, pageOut, signedIn, text, tx } from './support.js';

const slug = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'lower-case letters, digits and inner hyphens');

export const CreateProjectBody = z
  .object({ name: text(200), slug: slug.optional(), description: text(2000, 0).nullable().optional() })
  .strict()
  .openapi('CreateProject');

export const PatchProjectBody = z
  .object({ name: text(200).optional(), slug: slug.optional(), description: text(2000, 0).nullable().optional() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field')
  .openapi('PatchProject');

const includeDeleted = z.object({ include_deleted: booleanQuery.optional() });

const createProject = createRoute({
  method: 'post',
  path: '/projects',
  tags: ['projects'],
  ...signedIn({ role: 'member' }),
  request: { body: jsonBody(CreateProjectBody) },
  responses: { 201: ok(ProjectSchema, 'Created'), ...errors },
});

const listProjects = createRoute({
  method: 'get',
  path: '/projects',
  tags: ['projects'],
  ...signedIn({ role: 'viewer' }),
  request: {
    query: listQuery.extend({
      status: z.enum(projectHealthStatuses).optional(),
      schema_status: z.enum(validationStatuses).optional(),
      sheriff_status: z.enum(validationStatuses).optional(),
      gauntlet_status: z.enum(validationStatuses).optional(),
      q: z.string().min(1).max(200).optional().openapi({ description: 'text search on the name' }),
      include_deleted: booleanQuery.optional().openapi({ description: 'admins only' }),
    }),
  },
  responses: { 200: ok(listOf(ProjectSchema)), ...errors },
});

const getProject = createRoute({
  method: 'get',
  path: '/projects/{id}',
  tags: ['projects'],
  ...signedIn({ role: 'viewer' }),
  request: { params: idParams, query: includeDeleted },
  responses: { 200: ok(ProjectSchema), ...errors },
});

const patchProject = createRoute({
  method: 'patch',
  path: '/projects/{id}',
  tags: ['projects'],
  ...signedIn({ role: 'member' }),
  request: { params: idParams, body: jsonBody(PatchProjectBody) },
  responses: { 200: ok(ProjectSchema), ...lockErrors },
});

const deleteProject = createRoute({
  method: 'delete',
  path: '/projects/{id}',
  tags: ['projects'],
  ...signedIn({ role: 'admin' }),
  request: { params: idParams },
  responses: { 204: { description: 'Deleted (soft)' }, ...lockErrors },
});

const restoreProject = createRoute({
  method: 'post',
  path: '/projects/{id}/restore',
  tags: ['projects'],
  ...signedIn({ role: 'admin' }),
  request: { params: idParams },
  responses: { 200: ok(ProjectSchema), ...errors },
});

/** Deleted projects are visible to admins only, and only when asked for. */
function wantsDeleted(c: { var: ProjectsEnv['Variables'] }, flag: boolean | undefined): boolean {
  if (!flag) return false;
  if (!roleAtLeast(c.var.principal.role, 'admin')) throw problems.forbidden('include_deleted requires the admin role');
  return true;
}

export function registerProjects(app: OpenAPIHono<ProjectsEnv>): void {
  app.openapi(createProject, async (c) => {
    const row = await tx(c, (tx, t) => svc.createProject(tx, t, c.req.valid('json')));
    setEtag(c, row.version);
    return c.json(projectOut(row), 201);
  });

  app.openapi(listProjects, async (c) => {
    const query = c.req.valid('query');
    const includeDeletedRows = wantsDeleted(c, query.include_deleted);
    const result = await tx(c, (tx, t) => svc.listProjects(tx, t, { ...query, include_deleted: includeDeletedRows }));
    return c.json(pageOut(result, projectOut), 200);
  });

  app.openapi(getProject, async (c) => {
    const { id } = c.req.valid('param');
    const deleted = wantsDeleted(c, c.req.valid('query').include_deleted);
    const row = await tx(c, (tx, t) => svc.getProject(tx, t, { projectId: id, includeDeleted: deleted }));
    setEtag(c, row.version);
    return c.json(projectOut(row), 200);
  });

  app.openapi(patchProject, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const expected = expectedVersion(c);
    const row = await tx(c, (tx, t) => svc.updateProject(tx, t, { projectId: id, expectedVersion: expected, patch: body }));
    setEtag(c, row.version);
    return c.json(projectOut(row), 200);
  });

  app.openapi(deleteProject, async (c) => {
    const { id } = c.req.valid('param');
    const expected = expectedVersion(c);
    await tx(c, (tx, t) => svc.deleteProject(tx, t, { projectId: id, expectedVersion: expected }));
    return c.body(null, 204);
  });

  app.openapi(restoreProject, async (c) => {
    const { id } = c.req.valid('param');
    const row = await tx(c, (tx, t) => svc.restoreProject(tx, t, id));
    setEtag(c, row.version);
    return c.json(projectOut(row), 200);
  });
}
