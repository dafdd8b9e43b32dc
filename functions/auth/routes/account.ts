import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { withTenant } from '../../shared/db/tenant.js';
import { jsonBody } from '../../shared/http/openapi.js';
import { problems } from '../../shared/http/problem.js';
import type { AuthEnv } from '../app.js';
import { clientInfo } from '../service/client.js';
import { emailField, passwordField } from '../service/policy.js';
import { register } from '../service/register.js';
import { findUserById, userView } from '../service/users.js';
import { authed, errors, ok, secretString, UserSchema } from './support.js';

const registerRoute = createRoute({
  method: 'post',
  path: '/register',
  tags: ['account'],
  request: {
    body: jsonBody(
      z
        .object({ invitation_code: secretString(256), email: emailField, password: passwordField, name: z.string().trim().min(1).max(200) })
        .openapi('Register'),
    ),
  },
  responses: { 201: ok(UserSchema, 'Created'), ...errors },
});

const meRoute = createRoute({
  method: 'get',
  path: '/me',
  tags: ['account'],
  security: [{ bearer: [] }],
  middleware: [authed] as const,
  responses: { 200: ok(UserSchema), ...errors },
});

export function registerAccount(app: OpenAPIHono<AuthEnv>): void {
  app.openapi(registerRoute, async (c) => c.json(await register(c.var.services, c.req.valid('json'), clientInfo(c)), 201));
  app.openapi(meRoute, async (c) => {
    const p = c.var.principal;
    const user = await withTenant(c.var.database, { orgId: p.orgId, userId: p.userId }, (tx) => findUserById(tx, p.userId));
    if (!user) throw problems.notFound('user');
    return c.json(userView(user), 200);
  });
}
