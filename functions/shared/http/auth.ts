import type { MiddlewareHandler } from 'hono';
import { problems } from './problem.js';
import { staleReason, tokenStates } from '../security/revocation.js';
import { roleAtLeast, TokenError, verifyAccessToken, type Principal, type Role } from '../security/tokens.js';

export function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+([A-Za-z0-9._~+/=-]{10,4096})\s*$/);
  return match?.[1];
}

/**
 * Requires `Authorization: Bearer <access token>` and puts the Principal in the context.
 * `extra` lets a function accept another credential (the gateway's API keys) first.
 */
export function requireAuth(extra?: (token: string, c: Parameters<MiddlewareHandler>[0]) => Promise<Principal | undefined>): MiddlewareHandler {
  return async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) throw problems.unauthorized();
    let principal = extra ? await extra(token, c) : undefined;
    if (!principal) {
      try {
        principal = await verifyAccessToken(c.var.config.JWT_SECRETS, token);
      } catch (err) {
        if (err instanceof TokenError) throw problems.unauthorized(`invalid access token: ${err.message}`, 'invalid-token');
        throw err;
      }
      // A valid signature is not enough: the user's token version, status and role are checked on
      // every request (cached a few seconds per instance), so revocations take effect within seconds.
      const stale = staleReason(principal, principal.tokenVersion, await tokenStates.get(c.var.database, principal.userId));
      if (stale) throw problems.unauthorized(`invalid access token: ${stale}`, 'invalid-token');
    }
    c.set('principal', principal);
    c.var.log.debug('authenticated', { userId: principal.userId, orgId: principal.orgId });
    await next();
  };
}

/** 403 unless the caller's role is at least `minimum` (viewer < member < admin < owner). */
export function requireRole(minimum: Role): MiddlewareHandler {
  return async (c, next) => {
    const principal = c.get('principal');
    if (!principal) throw problems.unauthorized();
    if (!roleAtLeast(principal.role, minimum)) throw problems.forbidden(`requires the ${minimum} role or higher`);
    await next();
  };
}

export function assertRole(principal: Principal, minimum: Role): void {
  if (!roleAtLeast(principal.role, minimum)) throw problems.forbidden(`requires the ${minimum} role or higher`);
}

/**
 * The declarative way to mark a route as needing a caller, in createRoute's config:
 * `createRoute({ method, path, ...signedIn({ role: 'admin' }), request, responses })`. It sets the
 * operation's OpenAPI `security` and the middleware that enforces it (the bearer access token, then
 * the minimum role, then any `also` checks, e.g. API-key scopes), so the document and the check
 * cannot drift apart. A route without it is public.
 */
export function signedIn(options: { role?: Role; also?: MiddlewareHandler[] } = {}) {
  return {
    security: [{ bearer: [] }],
    middleware: [requireAuth(), ...(options.role ? [requireRole(options.role)] : []), ...(options.also ?? [])],
  };
}
