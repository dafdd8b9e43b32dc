import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { jsonBody, paginationQuery } from '../../shared/http/index.js';
import type { ProjectsEnv } from '../app.js';
import * as svc from '../service/checkpoints.js';
import { requireProject } from '../service/projects.js';
import { CheckpointSchema, checkpointOut, projectOut, ProjectSchema } from './shapes.js';
import { errors, idParams, listOf, ok, optionalBody, optionalJsonBody, pageOut, signedIn, text, tx, uuid } from './support.js';

const CreateCheckpointBody = z.object({ reason: text(1000) }).strict().openapi('CreateCheckpoint');
const RollbackBody = z.object({ reason: text(1000).optional() }).strict().openapi('Rollback');
const params = z.object({ id: uuid, cid: uuid });

const RollbackResult = z
  .object({ project: ProjectSchema, checkpoint_id: z.string(), undo_checkpoint_id: z.string().openapi({ description: 'checkpoint of the state before this rollback' }) })
  .openapi('RollbackResult');

const createCheckpoint = createRoute({
  method: 'post',
  path: '/projects/{id}/checkpoints',
  tags: ['checkpoints'],
  ...signedIn({ role: 'member' }),
  request: { params: idParams, body: jsonBody(CreateCheckpointBody) },
  responses: { 201: ok(CheckpointSchema, 'Created'), ...errors },
});

const listCheckpoints = createRoute({
  method: 'get',
  path: '/projects/{id}/checkpoints',
  tags: ['checkpoints'],
  ...signedIn({ role: 'viewer' }),
  request: { params: idParams, query: paginationQuery },
  responses: { 200: ok(listOf(CheckpointSchema)), ...errors },
});

const getCheckpoint = createRoute({
  method: 'get',
  path: '/projects/{id}/checkpoints/{cid}',
  tags: ['checkpoints'],
  ...signedIn({ role: 'viewer' }),
  request: { params },
  responses: { 200: ok(CheckpointSchema), ...errors },
});

const rollback = createRoute({
  method: 'post',
  path: '/projects/{id}/checkpoints/{cid}/rollback',
  tags: ['checkpoints'],
  ...signedIn({ role: 'admin' }),
  // The body is optional: a bare POST rolls back without a reason.
  request: { params, body: optionalJsonBody(RollbackBody) },
  responses: { 200: ok(RollbackResult), ...errors },
});

export function registerCheckpoints(app: OpenAPIHono<ProjectsEnv>): void {
  app.openapi(createCheckpoint, async (c) => {
    const { id } = c.req.valid('param');
    const row = await tx(c, (tx, t) => svc.createCheckpoint(tx, t, { projectId: id, reason: c.req.valid('json').reason }));
    return c.json(checkpointOut(row), 201);
  });

  app.openapi(listCheckpoints, async (c) => {
    const { id } = c.req.valid('param');
    const r = await tx(c, (tx, t) => svc.listCheckpoints(tx, t, { projectId: id, ...c.req.valid('query') }));
    return c.json(pageOut(r, checkpointOut), 200);
  });

  app.openapi(getCheckpoint, async (c) => {
    const { id, cid } = c.req.valid('param');
    const row = await tx(c, async (tx, t) => {
      await requireProject(tx, t, { projectId: id });
      return svc.requireCheckpoint(tx, t, { projectId: id, checkpointId: cid });
    });
    return c.json(checkpointOut(row), 200);
  });

  app.openapi(rollback, async (c) => {
    const { id, cid } = c.req.valid('param');
    const body = optionalBody(c, RollbackBody);
    const r = await tx(c, (tx, t) => svc.rollback(tx, t, { projectId: id, checkpointId: cid, reason: body.reason ?? null }));
    return c.json({ project: projectOut(r.project), checkpoint_id: r.checkpoint.id, undo_checkpoint_id: r.undoCheckpointId }, 200);
  });
}
