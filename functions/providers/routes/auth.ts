import type { MiddlewareHandler } from 'hono';
import { requireAuth } from '../../shared/http/index.js';
import type { ProvidersEnv } from '../app.js';
import { providerProblems } from '../service/errors.js';
import { authenticateApiKey, type ApiKeyScope } from '../service/api-keys.js';

/**
 * Access tokens everywhere; gateway API keys (llk_…) as well, tried first, cached briefly in memory.
 * Management routes refuse API keys (a leaked gateway key must not mint keys or lift quotas).
 */
export const gatewayAuth: MiddlewareHandler<ProvidersEnv> = requireAuth((token, c) => authenticateApiKey(c.var.database, token));

export const tokenOnly: MiddlewareHandler<ProvidersEnv> = async (c, next) => {
  if (c.var.principal.via === 'api_key') throw providerProblems.apiKeyNotAllowed();
  await next();
};

/** An API key with scopes must list this one; an API key without scopes may use every gateway scope. */
export const scope = (needed: ApiKeyScope): MiddlewareHandler<ProvidersEnv> => async (c, next) => {
  const p = c.var.principal;
  if (p.via === 'api_key' && p.scopes?.length && !p.scopes.includes(needed)) throw providerProblems.scopeMissing(needed);
  await next();
};

export const AUTHENTICATED_PATHS = ['/v1/*', '/providers', '/providers/*', '/keys', '/keys/*', '/api-keys', '/api-keys/*', '/quotas', '/quotas/*', '/usage', '/alerts', '/alerts/*'];
