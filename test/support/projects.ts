import { expect } from 'vitest';
import { buildProjectsApp } from '../../functions/projects/app.js';
import { buildProjectsServices } from '../../functions/projects/services.js';
import type { Database } from '../../functions/shared/db/database.js';
import { call, testKernel } from './app.js';

/** The projects function's app over a test database, and a JSON caller bound to it. */
export function projectsApp(database: Database) {
  const app = buildProjectsApp(() => buildProjectsServices(testKernel(database)));
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
