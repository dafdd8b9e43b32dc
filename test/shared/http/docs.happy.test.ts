import { describe, expect, it } from 'vitest';
import { createApp } from '../../../functions/shared/http/index.js';
import { prettyLine } from '../../../functions/shared/http/logger.js';
import { testConfig } from '../../support/app.js';

/** The docs page needs no database: the kernel's services middleware only hands it on. */
const appWith = (overrides: Partial<ReturnType<typeof testConfig>>) =>
  createApp({ name: 'docs-test', services: async () => ({ config: { ...testConfig(), ...overrides }, database: {} as never }) });

describe('API reference page', () => {
  it('serves the reference at /docs with the Scalar bundle from the function itself, not a CDN', async () => {
    const app = appWith({});
    const page = await app.request('/docs');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('./openapi.json');
    expect(html).toContain('<script src="./docs/scalar.js"');
    expect(html).not.toMatch(/<script[^>]+src="https?:/);

    const script = await app.request('/docs/scalar.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await script.text()).length).toBeGreaterThan(100_000);
  });

  it('is off in production unless API_DOCS is true', async () => {
    const off = appWith({ NODE_ENV: 'production', API_DOCS: false });
    expect((await off.request('/docs')).status).toBe(404);
    expect((await off.request('/docs/scalar.js')).status).toBe(404);
    const on = appWith({ NODE_ENV: 'production', API_DOCS: true });
    expect((await on.request('/docs')).status).toBe(200);
  });

  it('does not add /docs to the OpenAPI document', async () => {
    const doc = await (await appWith({}).request('/openapi.json')).json();
    expect(Object.keys(doc.paths ?? {})).not.toContain('/docs');
  });
});

describe('readable dev log lines', () => {
  const time = '2026-01-02T03:04:05.678Z';
  const plain = (line: string) => line.replace(/\x1b\[\d+m/g, '');

  it('prints a request as method, path, status, latency and request id', () => {
    const line = prettyLine({ severity: 'INFO', message: 'request', time, function: 'auth', requestId: 'req-1', method: 'POST', path: '/auth/login', status: 401, latencyMs: 12 });
    expect(plain(line)).toBe('03:04:05.678 POST   /auth/login 401 12ms req-1');
    expect(line).toContain('\x1b[33m401'); // 4xx in yellow
  });

  it('prints other entries with severity, message and their fields', () => {
    expect(plain(prettyLine({ severity: 'WARNING', message: 'slow', time, detail: 'x' }))).toBe('03:04:05.678 WARNING slow {"detail":"x"}');
  });
});
