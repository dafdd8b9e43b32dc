import type { MiddlewareHandler } from 'hono';
import { problems } from './problem.js';
import { staleReason, tokenStates } from '../security/revocation.js';
import { roleAtLeast, TokenError, verifyAccessToken, type Principal, type Role } from '../security/tokens.js';

export function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+([A-Za-z0-9._~+/=-]{10,4096})\s*$/);
  return match?.[1];
}

/**
 * Another credential a function accepts beside access tokens (the gateway's API keys): the Principal
 * for a token it recognizes, undefined for one it does not (then the access token check runs); it
 * throws for a token it recognizes and refuses.
 */
export type CredentialVerifier = (token: string, c: Parameters<MiddlewareHandler>[0]) => Promise<Principal | undefined>;

/**
 * Requires `Authorization: Bearer <access token>` and puts the Principal in the context.
 * `extra` lets a function accept another credential (the gateway's API keys) first.
 */
export function requireAuth(extra?: CredentialVerifier): MiddlewareHandler {
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

export function assertRole(principal: Pick<Principal, 'role'>, minimum: Role): void {
  if (!roleAtLeast(principal.role, minimum)) throw problems.forbidden(`requires the ${minimum} role or higher`);
}

/**
 * The declarative way to mark a route as needing a caller, in createRoute's config:
 * `createRoute({ method, path, ...signedIn({ role: 'admin' }), request, responses })`. It sets the
 * operation's OpenAPI `security` and the middleware that enforces it (the bearer access token, then
 * the minimum role, then any `also` checks, e.g. API-key scopes), so the document and the check
 * cannot drift apart. A route without it is public.
 *
 * `accept` tries another credential first (CredentialVerifier); with a `scheme` (a security scheme the
 * function registers) the credential grants access and the document lists it as an alternative,
 * without one it only recognizes the credential to refuse it with the function's own problem.
 */
export function signedIn(options: { role?: Role; also?: MiddlewareHandler[]; accept?: { verify: CredentialVerifier; scheme?: string } } = {}) {
  const scheme = options.accept?.scheme;
  return {
    security: [{ bearer: [] }, ...(scheme ? [{ [scheme]: [] }] : [])],
    middleware: [requireAuth(options.accept?.verify), ...(options.role ? [requireRole(options.role)] : []), ...(options.also ?? [])],
  };
}
