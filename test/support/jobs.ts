import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { buildJobsApp } from '../../functions/jobs/app.js';
import { buildJobsServices, type JobsOverrides } from '../../functions/jobs/services.js';
import type { Database } from '../../functions/shared/db/database.js';
import { testKernel } from './app.js';

export const AUDIENCE = 'https://jobs.lattice.test';
export const SCHEDULER = 'scheduler@lattice-test.iam.gserviceaccount.com';

/** A tiny JWKS server standing in for Google's certs, and a signer of scheduler-like ID tokens. */
export async function startJwks() {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const other = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/certs' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.url === '/certs' ? { keys: [jwk] } : {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`;
  async function token(claims: JWTPayload & { email?: string; email_verified?: boolean } = {}, options: { foreignKey?: boolean; expiresIn?: string } = {}) {
    return new SignJWT({ email: SCHEDULER, email_verified: true, ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
      .setIssuer((claims.iss as string) ?? 'https://accounts.google.com')
      .setAudience((claims.aud as string) ?? AUDIENCE)
      .setSubject('1234567890')
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? '5m')
      .sign(options.foreignKey ? other.privateKey : privateKey);
  }
  return { url, token, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export function jobsEnv(jwksUrl: string): Record<string, string> {
  return { JOBS_AUDIENCE: AUDIENCE, JOBS_SERVICE_ACCOUNT: SCHEDULER, JOBS_JWKS_URL: jwksUrl };
}

export function jobsApp(database: Database, jwksUrl: string, overrides: JobsOverrides = {}) {
  const services = buildJobsServices(testKernel(database, jobsEnv(jwksUrl)), overrides);
  return buildJobsApp(() => services);
}

export const JOB_PATHS = ['/drain-outbox', '/aggregate-usage', '/provider-health', '/maintain-partitions', '/cleanup', '/seal-audit', '/cost-alerts', '/release-reservations', '/replay-parked'];

/**
 * What a private Cloud Run service hands the container: the caller's token with its signature replaced by
 * SIGNATURE_REMOVED_BY_GOOGLE once Cloud Run IAM has verified it (https://cloud.google.com/run/docs/troubleshooting).
 */
export const stripSignature = (token: string) => `${token.split('.').slice(0, 2).join('.')}.SIGNATURE_REMOVED_BY_GOOGLE`;
