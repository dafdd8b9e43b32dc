import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { paginationQuery } from '../../shared/http/pagination.js';
import { problems } from '../../shared/http/problem.js';
import type { AuthEnv } from '../app.js';
import { revokeSession } from '../flows/sessions.js';
import { listSessions } from '../service/sessions.js';
import { signedIn } from '../../shared/http/auth.js';
import { errors, idParams, listOf, noContent, ok } from './support.js';

const SessionSchema = z
  .object({
    id: z.string(),
    user_agent: z.string().nullable(),
    ip: z.string().nullable(),
    created_at: z.string(),
    last_used_at: z.string(),
    expires_at: z.string(),
    current: z.boolean(),
  })
  .openapi('Session');

const listRoute = createRoute({
  method: 'get',
  path: '/sessions',
  tags: ['sessions'],
  ...signedIn(),
  request: { query: paginationQuery },
  responses: { 200: ok(listOf(SessionSchema)), ...errors },
});

const revokeRoute = createRoute({
  method: 'delete',
  path: '/sessions/{id}',
  tags: ['sessions'],
  ...signedIn(),
  request: { params: idParams },
  responses: { ...noContent, ...errors },
});

export function registerSessions(app: OpenAPIHono<AuthEnv>): void {
  app.openapi(listRoute, async (c) => c.json(await listSessions(c.var.services.sessionStore, c.var.principal, c.req.valid('query')), 200));
  app.openapi(revokeRoute, async (c) => {
    if (!(await revokeSession(c, c.req.valid('param').id))) throw problems.notFound('session');
    return c.body(null, 204);
  });
}
