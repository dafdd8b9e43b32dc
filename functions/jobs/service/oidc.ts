import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../../shared/config.js';
import { problems } from '../../shared/http/problem.js';

const GOOGLE_JWKS = 'https://www.googleapis.com/oauth2/v3/certs';
const GOOGLE_ISSUERS = ['https://accounts.google.com', 'accounts.google.com'];
/**
 * A private Cloud Run service (gen2 functions are Cloud Run services) checks the caller's ID token and
 * run.invoker itself, then forwards the token with its signature replaced by this marker (Cloud Run
 * troubleshooting, "SIGNATURE_REMOVED_BY_GOOGLE": https://cloud.google.com/run/docs/troubleshooting).
 */
export const SIGNATURE_REMOVED = 'SIGNATURE_REMOVED_BY_GOOGLE';
const CLOCK_TOLERANCE_S = 30;

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
 * How the token is checked:
 *  - `cloud-run` (production): Cloud Run IAM already verified the signature and run.invoker, and
 *    removed the signature; the function checks the claims (issuer, audience, service account, expiry).
 *    A token that still carries a signature did not come through that front door's stripping, so it is
 *    verified against Google's keys like in `signature` mode.
 *  - `signature` (dev, tests: the function is its own front door): full verification against
 *    JOBS_JWKS_URL (a local key set) or Google's keys; a stripped token is refused.
 */
export type SchedulerTokenMode = 'cloud-run' | 'signature';

export function schedulerVerifier(cfg: Config, mode: SchedulerTokenMode = cfg.NODE_ENV === 'production' ? 'cloud-run' : 'signature'): (token: string | undefined) => Promise<{ email: string }> {
  const url = cfg.NODE_ENV !== 'production' && cfg.JOBS_JWKS_URL ? cfg.JOBS_JWKS_URL : GOOGLE_JWKS;
  return async (token) => {
    if (!token) throw problems.unauthorized('a Google OIDC token from the scheduler is required');
    if (!cfg.JOBS_AUDIENCE || !cfg.JOBS_SERVICE_ACCOUNT) throw problems.unauthorized('jobs are not configured (JOBS_AUDIENCE, JOBS_SERVICE_ACCOUNT)', 'jobs-not-configured');
    const stripped = token.split('.')[2] === SIGNATURE_REMOVED;
    let payload: JWTPayload;
    if (stripped) {
      if (mode !== 'cloud-run') throw problems.unauthorized('the token has no signature to verify (only Cloud Run may strip it)', 'invalid-token');
      payload = strippedClaims(token, cfg.JOBS_AUDIENCE);
    } else {
      payload = await verified(token, url, cfg.JOBS_AUDIENCE);
    }
    if (payload.email !== cfg.JOBS_SERVICE_ACCOUNT || payload.email_verified !== true) {
      throw problems.unauthorized('the token was not issued to the scheduler service account', 'invalid-token');
    }
    return { email: payload.email };
  };
}

/** Claims of a token whose signature Cloud Run verified and removed: the same checks jwtVerify makes, minus the signature. */
function strippedClaims(token: string, audience: string): JWTPayload {
  let header;
  let payload: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    payload = decodeJwt(token);
  } catch {
    throw problems.unauthorized('invalid scheduler token: malformed', 'invalid-token');
  }
  if (header.alg !== 'RS256') throw problems.unauthorized('invalid scheduler token: unexpected algorithm', 'invalid-token');
  if (!GOOGLE_ISSUERS.includes(String(payload.iss))) throw problems.unauthorized('invalid scheduler token: issuer', 'invalid-token');
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!audiences.includes(audience)) throw problems.unauthorized('invalid scheduler token: audience', 'invalid-token');
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.exp !== 'number' || payload.exp <= now - CLOCK_TOLERANCE_S) throw problems.unauthorized('invalid scheduler token: expired', 'invalid-token');
  if (typeof payload.iat === 'number' && payload.iat > now + CLOCK_TOLERANCE_S) throw problems.unauthorized('invalid scheduler token: issued in the future', 'invalid-token');
  return payload;
}

async function verified(token: string, url: string, audience: string): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, keySet(url), { issuer: GOOGLE_ISSUERS, audience, algorithms: ['RS256'], clockTolerance: CLOCK_TOLERANCE_S });
    return payload;
  } catch (err) {
    // The key set could not be fetched (timeout, 5xx, not JSON): our dependency is down, not the
    // caller wrong. 503 lets Cloud Scheduler retry with its backoff instead of logging a 500.
    // jose throws a plain JOSEError for a non-200 or non-JSON key set response (jwks/remote.js).
    const keySetDown = err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || !(err instanceof errors.JOSEError) || err.constructor === errors.JOSEError;
    if (keySetDown) {
      throw problems.unavailable('the signing keys of the scheduler token could not be fetched', 30);
    }
    throw problems.unauthorized(`invalid scheduler token: ${err.code}`, 'invalid-token');
  }
}
