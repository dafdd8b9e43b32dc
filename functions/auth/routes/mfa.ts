import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { jsonBody } from '../../shared/http/openapi.js';
import type { AuthEnv } from '../app.js';
import { disableTotp, enableTotp, setupTotp } from '../flows/mfa.js';
import { passwordField } from '../service/policy.js';
import { signedIn } from '../../shared/http/auth.js';
import { errors, noContent, ok } from './support.js';

const code = z.string().trim().min(6).max(32);

const setupRoute = createRoute({
  method: 'post',
  path: '/mfa/totp/setup',
  tags: ['mfa'],
  ...signedIn(),
  responses: { 200: ok(z.object({ otpauth_uri: z.string(), secret: z.string() }).openapi('TotpSetup')), ...errors },
});

const enableRoute = createRoute({
  method: 'post',
  path: '/mfa/totp/enable',
  tags: ['mfa'],
  ...signedIn(),
  // The password too: a stolen access token alone must not bind the account to the thief's authenticator.
  request: { body: jsonBody(z.object({ password: passwordField, code: z.string().trim().regex(/^\d{6}$/, 'a 6-digit code') })) },
  responses: { 200: ok(z.object({ recovery_codes: z.array(z.string()).length(10) }).openapi('RecoveryCodes'), 'Shown once'), ...errors },
});

const disableRoute = createRoute({
  method: 'post',
  path: '/mfa/totp/disable',
  tags: ['mfa'],
  ...signedIn(),
  request: { body: jsonBody(z.object({ password: passwordField, code })) },
  responses: { ...noContent, ...errors },
});

export function registerMfa(app: OpenAPIHono<AuthEnv>): void {
  app.openapi(setupRoute, async (c) => c.json(await setupTotp(c), 200));
  app.openapi(enableRoute, async (c) => c.json(await enableTotp(c, c.req.valid('json')), 200));
  app.openapi(disableRoute, async (c) => {
    await disableTotp(c, c.req.valid('json'));
    return c.body(null, 204);
  });
}
