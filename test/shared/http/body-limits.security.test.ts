/**
 * Body limits count DECODED bytes while the body streams, through the functions-framework server.
 * functions-framework v5 (`build/src/server.js`) installs body-parser with `limit: '1024mb'`, and
 * body-parser 2 (`lib/read.js`) inflates gzip/deflate/br before any limit we set could apply: the
 * review saw a 400 KB gzip body become 400 MiB and grow the process by 1.2 GiB. These tests send
 * bombs, floods and slow bodies and check the 413, and that the process grew by a few MiB at most.
 */
import { request, type IncomingMessage } from 'node:http';
import { createServer } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync, constants as zlib } from 'node:zlib';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { createRoute, z } from '@hono/zod-openapi';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, jsonBody, problemResponses } from '../../../functions/shared/http/index.js';
import { serveFunction } from '../../../functions/shared/http/serve.js';
import { BodyRefused, readDecodedBody } from '../../../functions/shared/http/body.js';
import { listen, testConfig } from '../../support/app.js';

const MiB = 1024 * 1024;

function buildApp() {
  const app = createApp({ name: 'body-test', services: async () => ({ config: testConfig(), database: undefined as never }) });
  const echo = createRoute({
    method: 'post',
    path: '/echo',
    request: { body: jsonBody(z.object({ text: z.string() })) },
    responses: { 200: { description: 'echo', content: { 'application/json': { schema: z.object({ length: z.number() }) } } }, ...problemResponses },
  });
  app.openapi(echo, (c) => c.json({ length: c.req.valid('json').text.length }, 200));
  app.openapi({ ...echo, path: '/v1/echo' }, (c) => c.json({ length: c.req.valid('json').text.length }, 200));
  return app;
}

serveFunction('bodyLimits', buildApp());
let server: Awaited<ReturnType<typeof listen>>;
let port: number;
beforeAll(async () => {
  server = await listen(getTestServer('bodyLimits'));
  port = Number(new URL(server.url).port);
});
afterAll(() => server.close());

interface Answer {
  status: number;
  body: any;
  /** Raw bytes the client had written when the answer's headers arrived. */
  sentBeforeAnswer: number;
}

/**
 * Sends `chunks` one write at a time (chunked unless `contentLength` is given), stops writing as soon
 * as the answer arrives (a refusing server closes the connection), and never ends a body that has
 * `hold` set: the answer must come while the client is still sending.
 */
function send(path: string, chunks: Iterable<Buffer>, headers: Record<string, string>, opts: { hold?: boolean; paceMs?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', ...headers } });
    req.on('response', (res: IncomingMessage) => {
      answered = true;
      const sentBeforeAnswer = sent;
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let body: any;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        resolve({ status: res.statusCode ?? 0, body, sentBeforeAnswer });
        req.destroy();
      });
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const iterator = chunks[Symbol.iterator]();
    const pump = () => {
      while (!answered) {
        const next = iterator.next();
        if (next.done) {
          if (!opts.hold) req.end();
          return;
        }
        sent += next.value.length;
        const more = req.write(next.value);
        if (opts.paceMs) return void setTimeout(pump, opts.paceMs);
        if (!more) return void req.once('drain', pump);
      }
    };
    pump();
  });
}

function* repeat(chunk: Buffer, times: number) {
  for (let i = 0; i < times; i += 1) yield chunk;
}

/** Peak RSS growth while `run` is in flight, sampled every few ms (process.memoryUsage). */
async function peakGrowth<T>(run: () => Promise<T>): Promise<{ result: T; growth: number }> {
  globalThis.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 2);
  try {
    const result = await run();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, growth: peak - base };
  } finally {
    clearInterval(timer);
  }
}

/** Text that compresses like real prose (a few times), not like a run of one character. */
function prose(length: number): string {
  const words: string[] = [];
  let state = 7;
  let size = 0;
  while (size < length) {
    state = (state * 48271) % 2147483647;
    const word = state.toString(36).slice(0, 2 + (state % 7));
    words.push(word);
    size += word.length + 1;
  }
  return words.join(' ').slice(0, length);
}

const json = (text: string) => Buffer.from(JSON.stringify({ text }));
// 8 MiB of zeros in one gzip member is ~8 KB; members concatenate (RFC 1952 §2.2), so N copies are one
// valid gzip body decoding to N × 8 MiB.
const zeros = Buffer.alloc(8 * MiB);
const gzipMember = gzipSync(zeros, { level: 9 });

describe('decoded bodies through functions-framework', () => {
  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', (b: Buffer) => brotliCompressSync(b)],
  ] as const)('a %s body within the limit reaches the handler decoded', async (coding, encode) => {
    const text = prose(160 * 1024);
    const answer = await send('/echo', [encode(json(text))], { 'content-encoding': coding });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ length: text.length });
  });

  it('a gzip bomb (1 GiB decoded from ~1 MB) answers 413 early and the process grows by a few MiB at most', async () => {
    const { result, growth } = await peakGrowth(() => send('/echo', repeat(gzipMember, 128), { 'content-encoding': 'gzip' }));
    expect(result.status).toBe(413);
    expect(result.body.type).toMatch(/body-too-large|compression-ratio/);
    expect(growth).toBeLessThan(64 * MiB);
  });

  it('a brotli bomb answers 413 the same way', async () => {
    const bomb = brotliCompressSync(Buffer.alloc(64 * MiB), { params: { [zlib.BROTLI_PARAM_QUALITY]: 4 } });
    const { result, growth } = await peakGrowth(() => send('/echo', [bomb], { 'content-encoding': 'br' }));
    expect(result.status).toBe(413);
    expect(growth).toBeLessThan(64 * MiB);
  });

  it('a body that decompresses far beyond any JSON ratio answers 413 compression-ratio below the size limit', async () => {
    const body = gzipSync(json(' '.repeat(700 * 1024)), { level: 9 });
    const answer = await send('/echo', [body], { 'content-encoding': 'gzip', 'content-length': String(body.length) });
    expect(answer.status).toBe(413);
    expect(answer.body.type).toBe('urn:lattice-lock:problem:compression-ratio');
  });

  it('the /v1/* limit is 8 MiB decoded: 2 MiB passes there and is refused elsewhere', async () => {
    const body = json('a'.repeat(2 * MiB));
    expect((await send('/v1/echo', [body], {})).status).toBe(200);
    const refused = await send('/echo', [body], {});
    expect(refused.status).toBe(413);
    expect(refused.body.type).toBe('urn:lattice-lock:problem:body-too-large');
  });

  it('eight parallel chunked floods without Content-Length are refused at the limit, not read in full', async () => {
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    const { result, growth } = await peakGrowth(() => Promise.all(Array.from({ length: 8 }, () => send('/echo', repeat(chunk, 124), {}))));
    for (const answer of result) {
      expect(answer.status).toBe(413);
      // Refused within a few chunks of the 1 MiB limit, not after the client's 31 MiB.
      expect(answer.sentBeforeAnswer).toBeLessThan(8 * MiB);
    }
    expect(growth).toBeLessThan(96 * MiB);
  });

  it('a slow body that passes the limit is answered 413 while the client is still sending', async () => {
    const answer = await send('/echo', repeat(Buffer.alloc(64 * 1024, 0x62), 40), {}, { hold: true, paceMs: 2 });
    expect(answer.status).toBe(413);
    expect(answer.sentBeforeAnswer).toBeLessThan(40 * 64 * 1024);
  });

  it.each(['compress', 'zstd', 'gzip, br', 'x-unknown'])('Content-Encoding %s answers 415 problem+json', async (coding) => {
    const answer = await send('/echo', [json('a')], { 'content-encoding': coding });
    expect(answer.status).toBe(415);
    expect(answer.body.type).toBe('urn:lattice-lock:problem:unsupported-encoding');
  });

  it('a body that is not valid gzip answers 400', async () => {
    const answer = await send('/echo', [Buffer.from('definitely not gzip')], { 'content-encoding': 'gzip' });
    expect(answer.status).toBe(400);
    expect(answer.body.type).toBe('urn:lattice-lock:problem:malformed-encoding');
  });

  it('a compressed body split anywhere across TCP writes decodes to the same body', async () => {
    const text = prose(40_000);
    const encoded = gzipSync(json(text));
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: encoded.length - 1 }), { maxLength: 12 }), async (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), encoded.length];
        const pieces = points.slice(1).map((end, i) => encoded.subarray(points[i], end));
        const answer = await send('/echo', pieces, { 'content-encoding': 'gzip' });
        expect(answer).toMatchObject({ status: 200, body: { length: text.length } });
      }),
      { numRuns: 15 },
    );
  });
});

describe('readDecodedBody on its own', () => {
  it('answers 408 when the client stops sending in the middle of a body', async () => {
    const seen: unknown[] = [];
    const plain = createServer((req, res) => {
      readDecodedBody(req, { limit: MiB, idleTimeoutMs: 50 }).then(
        () => res.end('read'),
        (err) => {
          seen.push(err);
          res.statusCode = (err as BodyRefused).status;
          res.end();
        },
      );
    });
    const local = await listen(plain);
    try {
      port = Number(new URL(local.url).port);
      const answer = await send('/', [Buffer.from('{"text": "par')], {}, { hold: true });
      expect(answer.status).toBe(408);
      expect(seen[0]).toBeInstanceOf(BodyRefused);
      expect((seen[0] as BodyRefused).code).toBe('body-timeout');
    } finally {
      port = Number(new URL(server.url).port);
      await local.close();
    }
  });
});
