import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../../shared/config.js';
import { problems } from '../../shared/http/problem.js';

const GOOGLE_JWKS = 'https://www.googleapis.com/oauth2/v3/certs';
const GOOGLE_ISSUERS = ['https://accounts.google.com', 'accounts.google.com'];

const keySets = new Map<string, JWTVerifyGetKey>();
const keySet = (url: string) => {
  let set = keySets.get(url);
  if (!set) {
    set = createRemoteJWKSet(new URL(url), { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
    keySets.set(url, set);
  }
  return set;
};

/**
 * Cloud Scheduler calls with a Google-signed OIDC ID token: issuer accounts.google.com, audience = the
 * jobs function URL (JOBS_AUDIENCE), email = the scheduler's service account, verified. Outside production
 * JOBS_JWKS_URL may point at a local key set (tests, dev) — production always uses Google's keys.
 */
export function schedulerVerifier(cfg: Config): (token: string | undefined) => Promise<{ email: string }> {
  const url = cfg.NODE_ENV !== 'production' && cfg.JOBS_JWKS_URL ? cfg.JOBS_JWKS_URL : GOOGLE_JWKS;
  return async (token) => {
    if (!token) throw problems.unauthorized('a Google OIDC token from the scheduler is required');
    if (!cfg.JOBS_AUDIENCE || !cfg.JOBS_SERVICE_ACCOUNT) throw problems.unauthorized('jobs are not configured (JOBS_AUDIENCE, JOBS_SERVICE_ACCOUNT)', 'jobs-not-configured');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, keySet(url), { issuer: GOOGLE_ISSUERS, audience: cfg.JOBS_AUDIENCE, algorithms: ['RS256'], clockTolerance: 30 }));
    } catch (err) {
      if (err instanceof errors.JOSEError) throw problems.unauthorized(`invalid scheduler token: ${err.code}`, 'invalid-token');
      throw err;
    }
    if (payload.email !== cfg.JOBS_SERVICE_ACCOUNT || payload.email_verified !== true) {
      throw problems.unauthorized('the token was not issued to the scheduler service account', 'invalid-token');
    }
    return { email: payload.email };
  };
}
