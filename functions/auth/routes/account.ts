import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { jsonBody } from '../../shared/http/openapi.js';
import { text } from '../../shared/http/input.js';
import { problems } from '../../shared/http/problem.js';
import type { AuthEnv } from '../app.js';
import { inTenant } from '../../shared/http/transactions.js';
import { register } from '../flows/account.js';
import { emailField, passwordField } from '../service/policy.js';
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
  app.openapi(registerRoute, async (c) => c.json(await register(c, c.req.valid('json')), 201));
  app.openapi(meRoute, async (c) => {
    const user = await inTenant(c, (tx, t) => findUserById(tx, t.userId));
    if (!user) throw problems.notFound('user');
    return c.json(userView(user), 200);
  });
}
