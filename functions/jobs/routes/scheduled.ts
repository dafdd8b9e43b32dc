import type { MiddlewareHandler } from 'hono';
import { bearerToken } from '../../shared/http/index.js';
import type { JobsEnv } from '../app.js';

/** The OpenAPI name of the scheduler's credential; app.ts registers the scheme under it. */
export const SCHEDULER_SCHEME = 'scheduler';

/** What the document says that credential is (OpenAPI 3.1 §4.8.27, an OpenID Connect scheme). */
export const schedulerScheme = {
  type: 'openIdConnect' as const,
  openIdConnectUrl: 'https://accounts.google.com/.well-known/openid-configuration',
  description: "Cloud Scheduler's Google-signed ID token, for the jobs audience (JOBS_AUDIENCE) and issued to JOBS_SERVICE_ACCOUNT, as `Authorization: Bearer`.",
};

/**
 * The declarative way a job route names its caller, in createRoute's config like the kernel's
 * `signedIn`: `...scheduled()` sets the operation's OpenAPI `security` (the scheduler's OIDC token)
 * and the middleware that verifies it (service/oidc.ts, through services.verifyScheduler), so the
 * document and the check cannot drift apart. Verified before the query is validated or a run recorded.
 */
export function scheduled() {
  const verify: MiddlewareHandler<JobsEnv> = async (c, next) => {
    await c.var.services.verifyScheduler(bearerToken(c.req.header('authorization')));
    await next();
  };
  return { security: [{ [SCHEDULER_SCHEME]: [] }], middleware: [verify] };
}
