import { getTestServer } from '@google-cloud/functions-framework/testing';
import { createRoute, z } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, jsonBody, problemResponses, problems, setLogSink } from '../../../functions/shared/http/index.js';
import { serveFunction } from '../../../functions/shared/http/serve.js';
import { pgFromUrl } from '../../../functions/shared/db/pg.js';
import { createTestDatabase } from '../../support/db.js';
import { call, listen, testKernel } from '../../support/app.js';

const { database } = await createTestDatabase();

function buildKernelApp(db = database) {
  const app = createApp({ name: 'kernel-test', services: async () => testKernel(db) });
  const echo = createRoute({
    method: 'post',
    path: '/things',
    request: { body: jsonBody(z.object({ name: z.string().min(1).max(10), count: z.number().int().nonnegative() })) },
    responses: { 201: { description: 'created', content: { 'application/json': { schema: z.object({ name: z.string() }) } } }, ...problemResponses },
  });
  app.openapi(echo, (c) => c.json({ name: c.req.valid('json').name }, 201));
  app.openapi({ ...echo, path: '/v1/echo' }, (c) => c.json({ name: c.req.valid('json').name }, 201));
  app.get('/boom', () => {
    throw new Error('database password=hunter2 leaked in a message');
  });
  app.get('/domain', (c) => c.json({ inDomain: (process as { domain?: unknown }).domain != null }));
  app.get('/teapot', () => {
    throw problems.conflict('already done', 'already-done');
  });
  app.post('/v1/chat/completions', () => {
    throw problems.tooMany('daily token limit reached', 30, 'quota-exceeded');
  });
  return app;
}

const app = buildKernelApp();
serveFunction('kernelTest', app);
let server: Awaited<ReturnType<typeof listen>>;
beforeAll(async () => {
  server = await listen(getTestServer('kernelTest'));
});
afterAll(() => server.close());

const expectProblem = (body: any, status: number) => {
  expect(body).toMatchObject({ status, type: expect.stringMatching(/^urn:lattice-lock:problem:/), title: expect.any(String), detail: expect.any(String), instance: expect.any(String) });
  expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/); // no stack frames
};

describe('the functions-framework entry (framework.ts)', () => {
  it("a process serving one function calls it straight from express's entry, outside any domain (no async hooks with destroy tracking per promise)", async () => {
    const res = await fetch(`${server.url}/domain`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ inDomain: false });
  });
});

describe('errors through the functions-framework server', () => {
  it('malformed JSON answers 400 problem+json, not an HTML page', async () => {
    const res = await fetch(`${server.url}/things`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name": ' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expectProblem(await res.json(), 400);
  });

  it('a body over 1 MiB answers 413 before it is parsed', async () => {
    const res = await fetch(`${server.url}/things`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x'.repeat(1_100_000) }) });
    expect(res.status).toBe(413);
    expectProblem(await res.json(), 413);
  });

  it('a JSON body sent as text/plain answers 415', async () => {
    const res = await fetch(`${server.url}/things`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"name":"a","count":1}' });
    expect(res.status).toBe(415);
    expectProblem(await res.json(), 415);
  });

  it('a body failing its schema answers 422 listing every issue', async () => {
    const res = await fetch(`${server.url}/things`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: '', count: -1 }) });
    expect(res.status).toBe(422);
    const body: any = await res.json();
    expectProblem(body, 422);
    expect(body.errors.map((e: any) => e.path).sort()).toEqual(['count', 'name']);
  });

  it('a valid body reaches the handler', async () => {
    const res = await fetch(`${server.url}/things`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ok', count: 2 }) });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ name: 'ok' });
  });

  it('an unknown route answers 404 problem+json', async () => {
    const res = await fetch(`${server.url}/nowhere`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expectProblem(await res.json(), 404);
  });

  it('an unexpected error answers 500 without its message or stack, and logs it redacted', async () => {
    const lines: string[] = [];
    const previous = setLogSink((line) => lines.push(line));
    try {
      const res = await fetch(`${server.url}/boom`, { headers: { 'x-request-id': 'req-boom-1' } });
      expect(res.status).toBe(500);
      const body: any = await res.json();
      expectProblem(body, 500);
      expect(body.instance).toBe('req-boom-1');
      expect(JSON.stringify(body)).not.toContain('hunter2');
    } finally {
      setLogSink(previous);
    }
    const logged = lines.map((l) => JSON.parse(l)).find((e) => e.message === 'unhandled error');
    expect(logged).toMatchObject({ severity: 'ERROR', requestId: 'req-boom-1', function: 'kernel-test' });
  });

  it('typed problems keep their status and code', async () => {
    const res = await fetch(`${server.url}/teapot`);
    expect(res.status).toBe(409);
    expect(((await res.json()) as any).type).toBe('urn:lattice-lock:problem:already-done');
  });

  it('/v1/* errors carry the OpenAI error object beside the problem members', async () => {
    const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(res.headers.get('content-type')).toBe('application/json');
    const body: any = await res.json();
    expect(body.error).toEqual({ message: 'daily token limit reached', type: 'rate_limit_error', code: 'quota-exceeded', param: null });
    expectProblem(body, 429);
  });

  it('malformed JSON on /v1/* answers in the OpenAI shape too', async () => {
    // The framework's parser no longer runs (body.ts reads the body first): the route's own validation answers.
    const res = await fetch(`${server.url}/v1/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.type).toBe('invalid_request_error');
  });
});

describe('health endpoints', () => {
  it('/healthz answers without touching dependencies', async () => {
    const res = await call(app, 'GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok', function: 'kernel-test' });
  });

  it('/readyz measures a real round trip and reports the pool', async () => {
    const res = await call(app, 'GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.json.dependencies.database).toMatchObject({ status: 'ok', latency_ms: expect.any(Number) });
    expect(res.json.pool).toMatchObject({ total: expect.any(Number), idle: expect.any(Number), waiting: 0, max: 10 });
  });

  it('/readyz answers 503 with the reason when the database is down', async () => {
    const down = pgFromUrl('postgres://postgres@127.0.0.1:1/none', { max: 1 });
    const res = await call(buildKernelApp(down), 'GET', '/readyz');
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ status: 'degraded', reason: 'database is down', dependencies: { database: { status: 'down' } } });
    await down.close();
  });

  it('/openapi.json documents the routes from the same schemas', async () => {
    const res = await call(app, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.json.openapi).toBe('3.1.0');
    expect(res.json.paths['/things'].post.requestBody.content['application/json'].schema.properties.count).toBeDefined();
  });

  it('echoes a valid request id and replaces an unsafe one', async () => {
    expect((await call(app, 'GET', '/healthz', { headers: { 'x-request-id': 'abc-123' } })).headers.get('x-request-id')).toBe('abc-123');
    const replaced = (await call(app, 'GET', '/healthz', { headers: { 'x-request-id': '<script>' } })).headers.get('x-request-id');
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
  });
});
