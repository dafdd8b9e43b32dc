import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AuthEnv } from '../app.js';
import { login, loginMfa } from '../flows/login.js';
import { logout, refresh } from '../flows/sessions.js';
import { emailField, passwordField } from '../service/policy.js';
import { jsonBody } from '../../shared/http/openapi.js';
import { errors, noContent, ok, secretString, TokenPairSchema } from './support.js';

const MfaRequiredSchema = z.object({ mfa_required: z.literal(true), mfa_token: z.string() }).openapi('MfaRequired');
const locked = { 423: { description: 'Locked (only after a correct password)' } } as const;

const loginRoute = createRoute({
  method: 'post',
  path: '/login',
  tags: ['sessions'],
  request: { body: jsonBody(z.object({ email: emailField, password: passwordField }).openapi('Login')) },
  responses: { 200: ok(z.union([TokenPairSchema, MfaRequiredSchema]), 'Tokens, or the MFA step'), ...errors, ...locked },
});

const mfaRoute = createRoute({
  method: 'post',
  path: '/login/mfa',
  tags: ['sessions'],
  request: {
    body: jsonBody(z.object({ mfa_token: secretString(4096), code: z.string().min(6).max(32).openapi({ description: 'TOTP code or recovery code' }) })),
  },
  responses: { 200: ok(TokenPairSchema), ...errors, ...locked },
});

const refreshRoute = createRoute({
  method: 'post',
  path: '/token/refresh',
  tags: ['sessions'],
  request: { body: jsonBody(z.object({ refresh_token: secretString() })) },
  responses: { 200: ok(TokenPairSchema, 'A new pair; the presented refresh token is spent'), ...errors },
});

const logoutRoute = createRoute({
  method: 'post',
  path: '/logout',
  tags: ['sessions'],
  request: { body: jsonBody(z.object({ refresh_token: secretString() })) },
  responses: { ...noContent, ...errors },
});

export function registerLogin(app: OpenAPIHono<AuthEnv>): void {
  app.openapi(loginRoute, async (c) => {
    const result = await login(c, c.req.valid('json'));
    return c.json('mfa' in result ? result.mfa : result.tokens, 200);
  });
  app.openapi(mfaRoute, async (c) => c.json(await loginMfa(c, c.req.valid('json')), 200));
  app.openapi(refreshRoute, async (c) => c.json(await refresh(c, c.req.valid('json').refresh_token), 200));
  app.openapi(logoutRoute, async (c) => {
    await logout(c, c.req.valid('json').refresh_token);
    return c.body(null, 204);
  });
}
