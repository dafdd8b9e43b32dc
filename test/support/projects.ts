import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { buildProjectsApp } from '../../functions/projects/app.js';
import { buildProjectsServices } from '../../functions/projects/services.js';
import type { Database } from '../../functions/shared/db/database.js';
import { call, testKernel } from './app.js';

/** In-process apps keep artifacts in a folder of this test process, with links on a host of their own. */
export const TEST_ARTIFACTS = { ARTIFACT_DIR: join(tmpdir(), `lattice-artifacts-${process.pid}`), ARTIFACT_BASE_URL: 'http://projects.test' };

/** The projects function's app over a test database, and a JSON caller bound to it. */
export function projectsApp(database: Database) {
  const app = buildProjectsApp(() => buildProjectsServices(testKernel(database, TEST_ARTIFACTS)));
  const api = (method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) =>
    call(app, method, path, { token, body, headers });
  return { app, api };
}

/** Asserts an RFC 9457 body with the given status (and code, when given). */
export function expectProblem(res: { status: number; headers: Headers; json: any }, status: number, code?: string): void {
  expect(res.status, JSON.stringify(res.json)).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.json).toMatchObject({ status, type: expect.stringMatching(/^urn:lattice-lock:problem:/), title: expect.any(String), detail: expect.any(String), instance: expect.any(String) });
  if (code) expect(res.json.type).toBe(`urn:lattice-lock:problem:${code}`);
}

/** PUTs bytes to an upload link of the in-process app's embedded store (its links point at http://projects.test). */
export async function uploadInProcess(app: { request: (input: string, init?: RequestInit) => Response | Promise<Response> }, upload: { url: string; headers: Record<string, string> }, body: Uint8Array | string) {
  const link = new URL(upload.url);
  expect(link.origin).toBe(TEST_ARTIFACTS.ARTIFACT_BASE_URL);
  const res = await app.request(`${link.pathname}${link.search}`, { method: 'PUT', headers: upload.headers, body: body as BodyInit });
  return res.status;
}
