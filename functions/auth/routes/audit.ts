import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { authAuditEvents } from '../../../drizzle/schema/auth.js';
import { paginationQuery } from '../../shared/http/pagination.js';
import { inTenant } from '../../shared/http/transactions.js';
import type { AuthEnv } from '../app.js';
import { listAuthEvents } from '../service/audit.js';
import { signedIn } from '../../shared/http/auth.js';
import { errors, listOf, ok } from './support.js';

const AuthEventSchema = z
  .object({
    id: z.string().uuid(),
    event: z.enum(authAuditEvents),
    user_id: z.string().nullable(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    created_at: z.string(),
  })
  .openapi('AuthEvent');

const auditRoute = createRoute({
  method: 'get',
  path: '/audit',
  tags: ['audit'],
  ...signedIn({ role: 'admin' }),
  request: { query: paginationQuery.extend({ event: z.enum(authAuditEvents).optional(), user_id: z.string().uuid().optional() }) },
  responses: { 200: ok(listOf(AuthEventSchema), 'The organization\'s auth events, newest first'), ...errors },
});

export function registerAudit(app: OpenAPIHono<AuthEnv>): void {
  app.openapi(auditRoute, async (c) => c.json(await inTenant(c, (tx, t) => listAuthEvents(tx, t, c.req.valid('query'))), 200));
}
