import { expect } from 'vitest';

export interface RouteCase {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

type Caller = (method: string, path: string, token: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; headers: Headers; json: any }>;

/**
 * Another tenant's object must answer exactly like a missing one: 404 problem+json, whatever the
 * route and the caller's role. Runs every case and reports all failures at once.
 */
export async function expectAllNotFound(api: Caller, token: string, cases: RouteCase[]): Promise<void> {
  const failures: string[] = [];
  for (const c of cases) {
    const res = await api(c.method, c.path, token, c.body, c.headers ?? {});
    const isProblem = res.headers.get('content-type') === 'application/problem+json';
    if (res.status !== 404 || !isProblem) failures.push(`${c.method} ${c.path} → ${res.status} ${JSON.stringify(res.json)}`);
  }
  expect(failures).toEqual([]);
}
