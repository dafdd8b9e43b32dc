import type { Dispatcher, Pool } from 'undici';

/**
 * How the gateway reaches a provider: one undici `Pool` per upstream origin, keep-alive, called with
 * `pool.request()` rather than `fetch`. fetch runs the whole Fetch Standard per call (Request and
 * Headers objects, WHATWG streams for the body); the gateway needs a status, a few headers and the body's
 * bytes as they arrive. The answer keeps the slice of the `Response` interface the gateway reads
 * (`UpstreamResponse`), so a real `Response` (tests, other transports) still fits.
 *
 * Rules this follows (undici 7 docs, docs/docs/api/Dispatcher.md and README "Garbage Collection"):
 * - a body must always be consumed or destroyed, or its connection is not released: every path reads it
 *   (`text()`, `json()`, the reader to its end) or cancels it (`destroy()`), which also closes that socket;
 * - `request()` follows no redirect: redirects are an interceptor one composes (Dispatcher.md
 *   "Pre-built interceptors: redirect"), and none is, so a 3xx comes back as is (its Location was never
 *   checked by the SSRF rule);
 * - headersTimeout and bodyTimeout (default 300 s) would fail a call with their own errors; the gateway's
 *   idle timer (upstream.ts, GATEWAY_UPSTREAM_TIMEOUT_MS) must be the one that fires, so both are set per
 *   request to twice that budget: a backstop for a body read after the timer stopped (an error body).
 */
export interface UpstreamReader {
  read(): Promise<{ done: false; value: Uint8Array } | { done: true; value?: Uint8Array | undefined }>;
  cancel(reason?: unknown): Promise<void>;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly statusText: string;
  readonly headers: Headers;
  text(): Promise<string>;
  json(): Promise<unknown>;
  readonly body: { getReader(): UpstreamReader; cancel(reason?: unknown): Promise<void> } | null;
}

export interface UpstreamInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  redirect?: 'manual';
  /** undici's own header and body timeouts for this call (ms); the caller's idle timer should fire first. */
  backstopMs?: number;
}

export type Transport = (url: string, init: UpstreamInit) => Promise<UpstreamResponse>;

/** Origins kept per pool set; the least recently used pool is closed past it (BYOK hosts are unbounded). */
export const MAX_ORIGINS = 256;
const DEFAULT_BACKSTOP_MS = 300_000;

const noop = () => {};

/** An undici answer seen through the `Response` slice the gateway reads. */
class PooledResponse implements UpstreamResponse {
  private parsedHeaders: Headers | undefined;
  readonly body: UpstreamResponse['body'];

  constructor(private readonly data: Dispatcher.ResponseData) {
    const stream = data.body;
    // A Node stream that errors (abort, cut connection, our own destroy()) with no 'error' listener is an
    // uncaught exception; whoever reads the body still gets the error (the iterator, text(), json()).
    stream.on('error', noop);
    const destroy = async () => void stream.destroy();
    this.body = {
      getReader: () => {
        const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
        return { read: () => it.next() as ReturnType<UpstreamReader['read']>, cancel: destroy };
      },
      cancel: destroy,
    };
  }

  get status(): number {
    return this.data.statusCode;
  }
  get ok(): boolean {
    return this.data.statusCode >= 200 && this.data.statusCode < 300;
  }
  get statusText(): string {
    return this.data.statusText ?? '';
  }
  /** Built only when read (error answers: Retry-After); a value Headers refuses is left out, as fetch would fail the call instead. */
  get headers(): Headers {
    if (this.parsedHeaders) return this.parsedHeaders;
    const h = new Headers();
    for (const [name, value] of Object.entries(this.data.headers)) {
      for (const v of Array.isArray(value) ? value : [value]) {
        try {
          if (v !== undefined) h.append(name, v);
        } catch {
          // not a valid header value for the Fetch Standard
        }
      }
    }
    return (this.parsedHeaders = h);
  }
  text(): Promise<string> {
    return this.data.body.text();
  }
  json(): Promise<unknown> {
    return this.data.body.json();
  }
}

/** One pool per origin, the least recently used closed beyond `maxOrigins`. */
export function poolTransport(options: { connect?: Record<string, unknown>; maxOrigins?: number } = {}): Transport & { close(): Promise<void>; origins(): number } {
  const pools = new Map<string, Pool>();
  let undici: Promise<typeof import('undici')> | undefined;
  const poolFor = async (origin: string): Promise<Pool> => {
    const hit = pools.get(origin);
    if (hit) {
      pools.delete(origin);
      pools.set(origin, hit);
      return hit;
    }
    const { Pool } = await (undici ??= loadUndici());
    const again = pools.get(origin);
    if (again) return again;
    const pool = new Pool(origin, options.connect ? { connect: options.connect } : {});
    pools.set(origin, pool);
    while (pools.size > (options.maxOrigins ?? MAX_ORIGINS)) {
      const [oldest, evicted] = pools.entries().next().value!;
      pools.delete(oldest);
      // close() lets the calls in flight on it finish (Pool.md / Dispatcher.md `close`).
      void evicted.close().catch(() => {});
    }
    return pool;
  };
  const transport = async (url: string, init: UpstreamInit): Promise<UpstreamResponse> => {
    const u = new URL(url);
    const pool = await poolFor(u.origin);
    const backstop = init.backstopMs ?? DEFAULT_BACKSTOP_MS;
    const data = await pool.request({
      path: `${u.pathname}${u.search}`,
      method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
      // Without Accept-Encoding any coding is acceptable (RFC 9110 §12.5.3) and request() does not decode
      // (fetch did): ask for identity, which is what the adapters parse.
      headers: { 'accept-encoding': 'identity', ...init.headers },
      body: init.body,
      signal: init.signal,
      headersTimeout: backstop,
      bodyTimeout: backstop,
    });
    return new PooledResponse(data);
  };
  return Object.assign(transport, {
    async close() {
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((p) => p.close().catch(() => {})));
    },
    origins: () => pools.size,
  });
}

/**
 * undici loaded on first use (cold start: most requests to an instance are not upstream calls). Its named
 * exports are read from the module's default export when that is where they are: undici is CommonJS, and
 * a dynamic import of it in the esbuild bundle resolves to a split chunk whose only export is `default`
 * (module.exports), so `{ Agent }` of the namespace was undefined and every call to a user's base URL
 * failed in the deployed bundle ("Agent is not a constructor") while the TypeScript sources worked.
 */
export async function loadUndici(): Promise<typeof import('undici')> {
  const m = (await import('undici')) as typeof import('undici') & { default?: typeof import('undici') };
  return typeof m.Agent === 'function' ? m : m.default!;
}

/** Pools for the platform catalog's origins (set by platform admins, checked when saved). */
export const catalogTransport = poolTransport();

/**
 * What is read of an upstream answer, at most: an error body only for its message (the first 64 KiB hold
 * any provider's error object), a success body (non-streaming chat, embeddings) up to 32 MiB, far above
 * any real completion or embedding batch. A user's base URL can answer anything: a 200 MB error body read
 * whole by text() grew the process by 600 MB.
 */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;
export const MAX_JSON_BODY_BYTES = 32 * 1024 * 1024;

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`upstream body larger than ${limit} bytes`);
  }
}

/**
 * Reads a body up to `limit` bytes, then cancels the rest (which also closes a pooled connection).
 * `truncate` answers the first `limit` bytes; otherwise an oversized body throws BodyTooLarge.
 */
export async function readCapped(response: Pick<UpstreamResponse, 'body'>, limit: number, options: { truncate: boolean }): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const next = await reader.read();
    if (next.done) break;
    chunks.push(next.value);
    size += next.value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      if (!options.truncate) throw new BodyTooLarge(limit);
      return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, limit));
    }
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** A success body's JSON, read up to MAX_JSON_BODY_BYTES (BodyTooLarge past it, a SyntaxError if not JSON). */
export async function readJsonCapped(response: Pick<UpstreamResponse, 'body'>, limit = MAX_JSON_BODY_BYTES): Promise<unknown> {
  return JSON.parse(await readCapped(response, limit, { truncate: false }));
}
