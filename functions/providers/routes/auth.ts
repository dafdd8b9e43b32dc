import type { MiddlewareHandler } from 'hono';
import { signedIn, type CredentialVerifier } from '../../shared/http/index.js';
import type { ProvidersEnv } from '../app.js';
import { providerProblems } from '../service/errors.js';
import { authenticateApiKey, type ApiKeyScope } from '../service/api-keys.js';

/** The security scheme of gateway API keys (llk_…), registered in app.ts. */
export const API_KEY_SCHEME = 'apiKey';

/** A gateway API key (llk_…), tried before the access token check; cached briefly in memory. */
const apiKeyPrincipal: CredentialVerifier = (token, c) => authenticateApiKey(c.var.database, token);

/**
 * Management routes refuse API keys (a leaked gateway key must not mint keys or lift quotas): the key
 * is still authenticated first, so an invalid one answers 401 invalid-api-key and a valid one 403.
 */
const refuseApiKeys: CredentialVerifier = async (token, c) => {
  if (await authenticateApiKey(c.var.database, token)) throw providerProblems.apiKeyNotAllowed();
  return undefined;
};

/** An API key with scopes must list this one; an API key without scopes may use every gateway scope. */
const scope = (needed: ApiKeyScope): MiddlewareHandler<ProvidersEnv> => async (c, next) => {
  const p = c.var.principal;
  if (p.via === 'api_key' && p.scopes?.length && !p.scopes.includes(needed)) throw providerProblems.scopeMissing(needed);
  await next();
};

/** createRoute config of a route gateway API keys may call (with `needed` among their scopes) as well as access tokens. */
export const gatewayCaller = (needed: ApiKeyScope) => signedIn({ accept: { verify: apiKeyPrincipal, scheme: API_KEY_SCHEME }, also: [scope(needed)] });

/** createRoute config of a management route: a signed-in user's access token, never an API key. */
export const userOnly = () => signedIn({ accept: { verify: refuseApiKeys } });
