import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { withTenant } from '../../shared/db/tenant.js';
import { jsonBody } from '../../shared/http/openapi.js';
import { text } from '../../shared/http/input.js';
import { problems } from '../../shared/http/problem.js';
import type { AuthEnv } from '../app.js';
import { clientInfo } from '../service/client.js';
import { emailField, passwordField } from '../service/policy.js';
import { sendVerification } from '../service/email-verification.js';
import { register } from '../service/register.js';
import { findUserById, userView } from '../service/users.js';
import { signedIn } from '../../shared/http/auth.js';
import { errors, ok, secretString, UserSchema } from './support.js';

const registerRoute = createRoute({
  method: 'post',
  path: '/register',
  tags: ['account'],
  request: {
    body: jsonBody(
      z
        .object({ invitation_code: secretString(256), email: emailField, password: passwordField, name: text(200) })
        .openapi('Register'),
    ),
  },
  responses: { 201: ok(UserSchema, 'Created'), ...errors },
});

const meRoute = createRoute({
  method: 'get',
  path: '/me',
  tags: ['account'],
  ...signedIn(),
  responses: { 200: ok(UserSchema), ...errors },
});

export function registerAccount(app: OpenAPIHono<AuthEnv>): void {
  app.openapi(registerRoute, async (c) => {
    const user = await register(c.var.services, c.req.valid('json'), clientInfo(c));
    // An address the invitation was not sent to is unproven: mail it a verification link (awaited: a
    // function gets no CPU after its response, https://cloud.google.com/functions/docs/bestpractices/tips).
    if (!user.email_verified_at) await sendVerification(c.var.services, { id: user.id, orgId: user.org_id, email: user.email }, c.var.log);
    return c.json(user, 201);
  });
  app.openapi(meRoute, async (c) => {
    const p = c.var.principal;
    const user = await withTenant(c.var.database, { orgId: p.orgId, userId: p.userId }, (tx) => findUserById(tx, p.userId));
    if (!user) throw problems.notFound('user');
    return c.json(userView(user), 200);
  });
}
