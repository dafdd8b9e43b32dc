import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { jsonBody } from '../../shared/http/openapi.js';
import type { AuthEnv } from '../app.js';
import { changePassword, forgotPassword, resetPassword } from '../flows/password.js';
import { FORGOT_ANSWER } from '../service/password.js';
import { emailField, passwordField } from '../service/policy.js';
import { signedIn } from '../../shared/http/auth.js';
import { errors, noContent, ok, secretString } from './support.js';

const forgotRoute = createRoute({
  method: 'post',
  path: '/password/forgot',
  tags: ['password'],
  request: { body: jsonBody(z.object({ email: emailField })) },
  responses: { 202: ok(z.object({ status: z.literal('accepted'), detail: z.string() }), 'Always, whether or not the address has an account'), ...errors },
});

const resetRoute = createRoute({
  method: 'post',
  path: '/password/reset',
  tags: ['password'],
  request: {
    body: jsonBody(
      z.object({
        token: secretString(256),
        new_password: passwordField,
        // Only on request: a reset proves the mailbox, not the second factor; a user locked out by an
        // authenticator someone else enrolled asks for it to go.
        disable_totp: z.boolean().default(false),
      }),
    ),
  },
  responses: { ...noContent, ...errors },
});

const changeRoute = createRoute({
  method: 'post',
  path: '/password/change',
  tags: ['password'],
  ...signedIn(),
  request: { body: jsonBody(z.object({ current_password: passwordField, new_password: passwordField })) },
  responses: { ...noContent, ...errors },
});

export function registerPassword(app: OpenAPIHono<AuthEnv>): void {
  app.openapi(forgotRoute, async (c) => {
    await forgotPassword(c, c.req.valid('json').email);
    return c.json(FORGOT_ANSWER, 202);
  });
  app.openapi(resetRoute, async (c) => {
    await resetPassword(c, c.req.valid('json'));
    return c.body(null, 204);
  });
  app.openapi(changeRoute, async (c) => {
    await changePassword(c, c.req.valid('json'));
    return c.body(null, 204);
  });
}
