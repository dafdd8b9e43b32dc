import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { jsonBody } from '../../shared/http/openapi.js';
import { inSystem } from '../../shared/http/transactions.js';
import type { AuthEnv } from '../app.js';
import { requestVerification } from '../flows/account.js';
import { markEmailVerified, verificationClaims } from '../service/email-verification.js';
import { signedIn } from '../../shared/http/auth.js';
import { errors, ok, secretString } from './support.js';

const requestRoute = createRoute({
  method: 'post',
  path: '/email/verification',
  tags: ['account'],
  ...signedIn(),
  responses: { 202: ok(z.object({ status: z.enum(['sent', 'already_verified']) }), 'A verification link was mailed to the caller\'s address, unless it is verified already'), ...errors },
});

const verifyRoute = createRoute({
  method: 'post',
  path: '/email/verify',
  tags: ['account'],
  request: { body: jsonBody(z.object({ token: secretString(2048) }).openapi('VerifyEmail')) },
  responses: { 200: ok(z.object({ email_verified_at: z.string() }), 'The address is verified'), ...errors },
});

export function registerEmail(app: OpenAPIHono<AuthEnv>): void {
  app.openapi(requestRoute, async (c) => c.json({ status: await requestVerification(c) }, 202));
  app.openapi(verifyRoute, async (c) => {
    const claims = await verificationClaims(c.var.services.config.JWT_SECRETS, c.req.valid('json').token);
    return c.json(await inSystem(c, (tx) => markEmailVerified(tx, claims)), 200);
  });
}
