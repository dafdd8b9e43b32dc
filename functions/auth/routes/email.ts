import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { jsonBody } from '../../shared/http/openapi.js';
import type { AuthEnv } from '../app.js';
import { requestVerification, verifyEmail } from '../service/email-verification.js';
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
  app.openapi(requestRoute, async (c) => c.json({ status: await requestVerification(c.var.services, c.var.principal, c.var.log) }, 202));
  app.openapi(verifyRoute, async (c) => c.json(await verifyEmail(c.var.services, c.req.valid('json').token), 200));
}
