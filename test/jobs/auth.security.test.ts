import { getTestServer } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveFunction } from '../../functions/shared/http/serve.js';
import { call, listen } from '../support/app.js';
import { createTestDatabase } from '../support/db.js';
import { jobsApp, JOB_PATHS, startJwks } from '../support/jobs.js';

const { database } = await createTestDatabase();
const jwks = await startJwks();
afterAll(() => jwks.close());
const app = jobsApp(database, jwks.url, { probe: async () => ({ status: 'healthy', latencyMs: 1 }) });
const registered = JOB_PATHS.filter((p) => app.routes.some((r) => r.method === 'POST' && r.path === p));

describe.each(registered)('POST %s', (path) => {
  it.each([
    ['no token', async () => undefined],
    ['a wrong audience', () => jwks.token({ aud: 'https://someone-else.example' })],
    ['another service account', () => jwks.token({ email: 'intruder@evil.iam.gserviceaccount.com' })],
    ['an unverified email', () => jwks.token({ email_verified: false })],
    ['a wrong issuer', () => jwks.token({ iss: 'https://issuer.example' })],
    ['a key not in the JWKS', () => jwks.token({}, { foreignKey: true })],
    ['an expired token', () => jwks.token({ iat: Math.floor(Date.now() / 1000) - 7200 }, { expiresIn: '-1h' })],
    ['an app access token', async () => 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'],
  ])('refuses %s with 401', async (_label, make) => {
    const token = await make();
    const res = await call(app, 'POST', path, { token });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.json.type).toMatch(/^urn:lattice-lock:problem:/);
  });
});

describe('jobs endpoints', () => {
  it('every job of DESIGN.md section 4 is registered (and replay-parked for operators)', () => {
    expect(registered).toEqual(JOB_PATHS);
  });

  it('the OpenAPI document lists every job with its JobRun response', async () => {
    const doc = (await call(app, 'GET', '/openapi.json')).json;
    for (const path of registered) expect(doc.paths[path].post.responses['200']).toBeDefined();
    expect(doc.components.schemas.JobRun).toBeDefined();
  });

  it('probes stay open, and a refused run records no job run', async () => {
    expect((await call(app, 'GET', '/healthz')).status).toBe(200);
    await call(app, 'POST', '/cleanup');
    const { rows } = await database.pool!.query(`select count(*)::int as n from ops.job_runs`);
    expect(rows[0].n).toBe(0);
  });

  it('refuses everything when the audience or service account is not configured', async () => {
    const { buildJobsApp } = await import('../../functions/jobs/app.js');
    const { buildJobsServices } = await import('../../functions/jobs/services.js');
    const { testKernel } = await import('../support/app.js');
    const bare = buildJobsApp(() => buildJobsServices(testKernel(database, { JOBS_JWKS_URL: jwks.url })));
    const res = await call(bare, 'POST', '/cleanup', { token: await jwks.token() });
    expect(res.status).toBe(401);
  });
});

describe('through the functions-framework server', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    serveFunction('jobsTest', app);
    server = await listen(getTestServer('jobsTest'));
  });
  afterAll(() => server.close());

  it('a scheduler token runs the job; none answers 401 problem+json', async () => {
    const anonymous = await fetch(`${server.url}/maintain-partitions`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toBe('application/problem+json');
    const res = await fetch(`${server.url}/maintain-partitions`, { method: 'POST', headers: { authorization: `Bearer ${await jwks.token()}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ job: 'maintain-partitions', status: 'succeeded' });
  });
});
