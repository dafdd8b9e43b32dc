import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { expect } from 'vitest';
import { buildProjectsApp } from '../../functions/projects/app.js';
import { buildProjectsServices } from '../../functions/projects/services.js';
import type { Database } from '../../functions/shared/db/database.js';
import { filesystemObjectStore } from '../../functions/shared/storage/filesystem.js';
import { gcsObjectStore } from '../../functions/shared/storage/gcs.js';
import type { ObjectStore } from '../../functions/shared/storage/index.js';
import { startGcsFake, storageClientFor } from '../fakes/gcs.js';
import { jobsApp, startJwks } from './jobs.js';
import { call, listen, readResponse, testKernel } from './app.js';
import { approvedPromotion, ok, versionReadyForPromotion } from './lifecycle.js';
import { TEST_ARTIFACTS } from './projects.js';
import type { TestTenant } from './tenants.js';

export type StoreKind = 'gcs' | 'filesystem';
export const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/**
 * The projects function served over real HTTP with one artifact store (Cloud Storage through the real
 * client and the fake, or the embedded filesystem store whose links point back at this server), and the
 * jobs function's cleanup over the same store and database.
 */
export async function artifactWorld(database: Database, kind: StoreKind, env: Record<string, string> = {}) {
  let store: ObjectStore | undefined;
  const app = buildProjectsApp(() => buildProjectsServices(testKernel(database, { ...TEST_ARTIFACTS, ...env }), { objects: store! }));
  const server = await listen(createAdaptorServer({ fetch: app.fetch }) as never);
  const closers: (() => Promise<unknown>)[] = [server.close];
  let advance: (seconds: number) => void;
  if (kind === 'gcs') {
    const fake = await startGcsFake();
    closers.push(fake.close);
    store = await gcsObjectStore({ bucket: fake.bucket, storage: await storageClientFor(fake) });
    advance = fake.advance;
  } else {
    const dir = await mkdtemp(join(tmpdir(), 'lattice-journey-'));
    closers.push(() => rm(dir, { recursive: true, force: true }));
    let skew = 0;
    store = filesystemObjectStore({ root: dir, baseUrl: server.url, now: () => new Date(Date.now() + skew) });
    advance = (s) => void (skew += s * 1000);
  }
  const jwks = await startJwks();
  closers.push(jwks.close);
  const jobs = jobsApp(database, jwks.url, { objects: store });

  /** A JSON call to the projects function over HTTP. */
  async function api(method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return readResponse(res);
  }

  /** PUTs bytes where the upload grant says, with its headers, as a browser or curl would. */
  async function upload(grant: { url: string; headers: Record<string, string> }, body: Uint8Array | string) {
    const res = await fetch(grant.url, { method: 'PUT', headers: grant.headers, body: body as BodyInit });
    await res.arrayBuffer();
    return res.status;
  }

  /** A v2 version's analysis session owned by `member` (promoted by two admins). */
  async function session(member: TestTenant, admin1: TestTenant, admin2: TestTenant) {
    const s = await versionReadyForPromotion(api, member);
    const promotion = await approvedPromotion(api, admin1, admin2, s.version.id, s.evaluation.id);
    await ok(api('POST', `/promotions/${promotion.id}/apply`, admin1.token));
    return ok(api('POST', `/projects/${s.project.id}/analysis-sessions`, member.token, { version_id: s.version.id }), 201);
  }

  async function cleanup() {
    const res = await call(jobs, 'POST', '/cleanup', { token: await jwks.token() });
    expect(res.status, res.text).toBe(200);
    return res.json.stats as Record<string, number>;
  }

  return {
    store: store!,
    api,
    upload,
    session,
    cleanup,
    advance,
    close: async () => {
      for (const close of closers.reverse()) await close();
    },
  };
}
