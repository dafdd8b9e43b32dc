import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { projectErrorSeverities, validationKinds, validationStatuses } from '../../../drizzle/schema/projects.js';
import { jsonBody, paginationQuery } from '../../shared/http/index.js';
import type { ProjectsEnv } from '../app.js';
import * as svc from '../service/validations.js';
import { ProjectErrorSchema, projectErrorOut, projectOut, ProjectSchema, ValidationSchema, validationOut } from './shapes.js';
import { booleanQuery, errors, idParams, jsonObject, listOf, ok, pageOut, signedIn, text, tx, uuid } from './support.js';

const RecordValidationBody = z
  .object({ kind: z.enum(validationKinds), result: z.enum(validationStatuses), details: jsonObject.optional() })
  .strict()
  .openapi('RecordValidation');

const CreateErrorBody = z
  .object({
    code: text(100),
    message: text(4000),
    severity: z.enum(projectErrorSeverities),
    file_path: text(1000).optional(),
    line_number: z.number().int().min(1).max(2_147_483_647).optional(),
    validation_id: uuid.optional(),
  })
  .strict()
  .openapi('CreateProjectError');

const ValidationWithProject = ValidationSchema.extend({ project: ProjectSchema });
const ErrorWithProject = ProjectErrorSchema.extend({ project: ProjectSchema });

const recordValidation = createRoute({
  method: 'post',
  path: '/projects/{id}/validations',
  tags: ['validations'],
  ...signedIn({ role: 'member' }),
  request: { params: idParams, body: jsonBody(RecordValidationBody) },
  responses: { 201: ok(ValidationWithProject, 'Run recorded; the project with its re-derived status'), 200: ok(ValidationWithProject, 'not_run: status reset, no run recorded'), ...errors },
});

const listValidations = createRoute({
  method: 'get',
  path: '/projects/{id}/validations',
  tags: ['validations'],
  ...signedIn({ role: 'viewer' }),
  request: { params: idParams, query: paginationQuery.extend({ kind: z.enum(validationKinds).optional() }) },
  responses: { 200: ok(listOf(ValidationSchema)), ...errors },
});

const createError = createRoute({
  method: 'post',
  path: '/projects/{id}/errors',
  tags: ['errors'],
  ...signedIn({ role: 'member' }),
  request: { params: idParams, body: jsonBody(CreateErrorBody) },
  responses: { 201: ok(ErrorWithProject, 'Created'), ...errors },
});

const listErrors = createRoute({
  method: 'get',
  path: '/projects/{id}/errors',
  tags: ['errors'],
  ...signedIn({ role: 'viewer' }),
  request: { params: idParams, query: paginationQuery.extend({ resolved: booleanQuery.optional(), severity: z.enum(projectErrorSeverities).optional() }) },
  responses: { 200: ok(listOf(ProjectErrorSchema)), ...errors },
});

const resolveError = createRoute({
  method: 'post',
  path: '/projects/{id}/errors/{eid}/resolve',
  tags: ['errors'],
  ...signedIn({ role: 'member' }),
  request: { params: z.object({ id: uuid, eid: uuid }) },
  responses: { 200: ok(ErrorWithProject), ...errors },
});

export function registerValidations(app: OpenAPIHono<ProjectsEnv>): void {
  app.openapi(recordValidation, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const { validation, project } = await tx(c, (tx, t) => svc.recordValidation(tx, t, { projectId: id, ...body }));
    if (!validation) {
      return c.json({ id: null, project_id: id, kind: body.kind, result: body.result, details: {}, finished_at: null, created_at: null, created_by: null, project: projectOut(project) }, 200);
    }
    return c.json({ ...validationOut(validation), project: projectOut(project) }, 201);
  });

  app.openapi(listValidations, async (c) => {
    const { id } = c.req.valid('param');
    const r = await tx(c, (tx, t) => svc.listValidations(tx, t, { projectId: id, ...c.req.valid('query') }));
    return c.json(pageOut(r, validationOut), 200);
  });

  app.openapi(createError, async (c) => {
    const { id } = c.req.valid('param');
    const { error, project } = await tx(c, (tx, t) => svc.createError(tx, t, { projectId: id, ...c.req.valid('json') }));
    return c.json({ ...projectErrorOut(error), project: projectOut(project) }, 201);
  });

  app.openapi(listErrors, async (c) => {
    const { id } = c.req.valid('param');
    const r = await tx(c, (tx, t) => svc.listErrors(tx, t, { projectId: id, ...c.req.valid('query') }));
    return c.json(pageOut(r, projectErrorOut), 200);
  });

  app.openapi(resolveError, async (c) => {
    const { id, eid } = c.req.valid('param');
    const { error, project } = await tx(c, (tx, t) => svc.resolveError(tx, t, { projectId: id, errorId: eid }));
    return c.json({ ...projectErrorOut(error), project: projectOut(project) }, 200);
  });
}
