import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { buildJobsApp } from '../../functions/jobs/app.js';
import { buildJobsServices } from '../../functions/jobs/services.js';
import { schedulerVerifier } from '../../functions/jobs/service/oidc.js';
import { call, testConfig, testKernel } from '../support/app.js';
import { createTestDatabase } from '../support/db.js';
import { jobsEnv, SCHEDULER, startJwks, stripSignature } from '../support/jobs.js';

/**
 * Behind Cloud Run (production) the jobs function receives Cloud Scheduler's ID token with the signature
 * removed by Cloud Run, which verified it and run.invoker first; the function checks the claims. Run
 * locally (dev, tests) it is its own front door and verifies the signature against a key set.
 */
const { database } = await createTestDatabase();
const jwks = await startJwks();
afterAll(() => jwks.close());

const probe = async () => ({ status: 'healthy' as const, latencyMs: 1 });
const appWith = (verify: (token: string | undefined) => Promise<{ email: string }>) =>
  buildJobsApp(() => buildJobsServices(testKernel(database, jobsEnv(jwks.url)), { probe, verifyScheduler: verify }));
// The production check, with the test's audience and account: only the mode differs from testConfig.
const behindCloudRun = appWith(schedulerVerifier(testConfig(jobsEnv(jwks.url)), 'cloud-run'));
const local = appWith(schedulerVerifier(testConfig(jobsEnv(jwks.url)), 'signature'));

describe('behind Cloud Run (signature removed by Google)', () => {
  it('runs the job for a stripped scheduler token with the right claims', async () => {
    const res = await call(behindCloudRun, 'POST', '/maintain-partitions', { token: stripSignature(await jwks.token()) });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ job: 'maintain-partitions', status: 'succeeded' });
  });

  it.each([
    ['no token', async () => undefined],
    ['a token for another audience', async () => stripSignature(await jwks.token({ aud: 'https://lattice-providers.example' }))],
    ['another service account', async () => stripSignature(await jwks.token({ email: 'intruder@lattice-test.iam.gserviceaccount.com' }))],
    ['an unverified email', async () => stripSignature(await jwks.token({ email_verified: false }))],
    ['another issuer', async () => stripSignature(await jwks.token({ iss: 'https://issuer.example' }))],
    ['an expired token', async () => stripSignature(await jwks.token({ iat: Math.floor(Date.now() / 1000) - 7200 }, { expiresIn: '-1h' }))],
    ['a malformed token', async () => 'not-a-jwt.SIGNATURE_REMOVED_BY_GOOGLE'],
  ])('refuses %s with 401 problem+json', async (_label, make) => {
    const res = await call(behindCloudRun, 'POST', '/cleanup', { token: await make() });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('records no job run for a refused token', async () => {
    await call(behindCloudRun, 'POST', '/cleanup', { token: stripSignature(await jwks.token({ aud: 'https://elsewhere.example' })) });
    const { rows } = await database.pool!.query(`select count(*)::int as n from ops.job_runs where job = 'cleanup'`);
    expect(rows[0].n).toBe(0);
  });

  it('is the mode production selects', async () => {
    const verify = schedulerVerifier({ ...testConfig(jobsEnv(jwks.url)), NODE_ENV: 'production' });
    await expect(verify(stripSignature(await jwks.token()))).resolves.toEqual({ email: SCHEDULER });
  });
});

describe('run locally (its own front door)', () => {
  it('verifies the signature: a signed token runs, a stripped one is refused', async () => {
    expect((await call(local, 'POST', '/maintain-partitions', { token: await jwks.token() })).status).toBe(200);
    const stripped = await call(local, 'POST', '/maintain-partitions', { token: stripSignature(await jwks.token()) });
    expect(stripped.status).toBe(401);
  });

  it.each([
    ['answers 500', (res: import('node:http').ServerResponse) => res.writeHead(500).end('{"error":"boom"}')],
    ['answers HTML', (res: import('node:http').ServerResponse) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>')],
    ['resets the connection', (res: import('node:http').ServerResponse) => res.socket?.destroy()],
  ])('answers 503 with Retry-After, never 500, when the key set %s', async (_label, answer) => {
    const broken = createServer((_req, res) => answer(res));
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(broken.address() as AddressInfo).port}/certs`;
      const app = appWith(schedulerVerifier(testConfig({ ...jobsEnv(url) }), 'signature'));
      const res = await call(app, 'POST', '/cleanup', { token: await jwks.token() });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBeTruthy();
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    } finally {
      await new Promise<void>((resolve) => broken.close(() => resolve()));
    }
  });
});
