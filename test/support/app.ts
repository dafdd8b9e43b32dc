import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { loadConfig, type Config } from '../../functions/shared/config.js';
import type { Database } from '../../functions/shared/db/database.js';
import type { KernelServices } from '../../functions/shared/http/context.js';

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'warn', ...overrides });
}

export function testKernel(database: Database, overrides: Record<string, string> = {}): KernelServices {
  return { config: testConfig(overrides), database };
}

type Fetchable = { request: (input: string, init?: RequestInit) => Response | Promise<Response> };

/** In-process request with JSON helpers (hono `app.request`). */
export async function call(app: Fetchable, method: string, path: string, options: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  return readResponse(await app.request(path, { method, headers, body }));
}

/** A response's status, headers, text, and its JSON when the text is JSON (undefined otherwise). */
export async function readResponse(res: Response): Promise<{ status: number; headers: Headers; json: any; text: string }> {
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** Starts an http.Server (e.g. functions-framework getTestServer) on a loopback port. */
export async function listen(server: Server): Promise<{ url: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
