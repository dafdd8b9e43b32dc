import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeError, writeFrames, type Chunking, type ErrorFixture, type JsonFixture, type StreamFixture, type WireOptions, type WireProfile } from './wire.js';

/**
 * Shared machinery of the fake AI upstreams. What a request gets is decided by directives in its last
 * user message, so concurrent mixed runs stay deterministic whatever the order:
 *   [[fail:500]] / [[fail:429]]  answer that status with the provider's recorded error body (before the first byte)
 *   [[hang]]                     never answer (upstream timeout)
 *   [[slow:40]]                  stream one frame every 40 ms
 *   [[words:30]]                 reply with 30 words
 *   [[finish:X]]                 end with the provider's own finish reason X (length, max_tokens, SAFETY, ...)
 * and, for how the bytes go on the wire (see wire.ts):
 *   [[chunk:bytes1]] [[chunk:whole]] [[chunk:every:7]] [[chunk:seed:42]] [[chunk:seed:42:16]]
 *   [[keepalive:2]]              the provider's keep-alive before the first frame and after every 2 frames
 *   [[delay:5]]                  5 ms between writes
 *   [[cut:120]]                  destroy the socket after 120 body bytes
 *   [[stall]] / [[stall:300]]    go idle after 1 (or 300) bytes
 *   [[midstream:2]]              the provider's in-stream error event after 2 frames
 *   [[malformed:1]]              a frame with truncated JSON after 1 frame
 * Besides directives: factory `wire` options apply to every request, `setWire()` changes them, `failNext(status, n)`
 * makes the next n requests fail, and `serveNext()` answers the next requests with recorded fixtures.
 */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
}

/** What `serveNext` can queue: a recorded answer, or wire options for the next echo answer. */
export type Served =
  | { stream: StreamFixture; wire?: WireOptions }
  | { json: JsonFixture }
  | { error: ErrorFixture }
  | { wire: WireOptions };

export interface FakeUpstream {
  /** API root to store as the provider's base_url. */
  baseUrl: string;
  port: number;
  requests: RecordedRequest[];
  failNext(status: number, times?: number): void;
  /** The next `times` requests get `what` instead of their echo answer (after auth checks). */
  serveNext(what: Served, times?: number): void;
  /** Wire options for every following request (directives in a request still win). */
  setWire(options: WireOptions): void;
  close(): Promise<void>;
}

export interface FakeOptions {
  /** When set, other keys get the provider's authentication error. */
  apiKey?: string;
  /** Default wire behaviour for every request. */
  wire?: WireOptions;
}

export interface Scripted {
  reply: string[];
  promptTokens: number;
  fail?: number;
  hang?: boolean;
  slowMs?: number;
  /** `[[finish:X]]`: the provider's own finish/stop reason to answer with */
  finish?: string;
  wire: WireOptions;
}

/** Parses the wire directives of a message (see the header comment). */
export function wireDirectives(text: string): WireOptions {
  const out: WireOptions = {};
  const chunk = text.match(/\[\[chunk:([a-z0-9]+)(?::(\d+))?(?::(\d+))?\]\]/);
  if (chunk) {
    const [, kind, a, b] = chunk;
    const chunking: Chunking | undefined =
      kind === 'bytes1' ? 'bytes1' : kind === 'whole' ? 'whole' : kind === 'frames' ? 'frames'
        : kind === 'every' ? { every: Number(a ?? 1) }
          : kind === 'seed' ? { seed: Number(a ?? 1), ...(b ? { max: Number(b) } : {}) } : undefined;
    if (chunking) out.chunking = chunking;
  }
  const num = (re: RegExp) => {
    const m = text.match(re);
    return m ? Number(m[1] ?? NaN) : undefined;
  };
  const keepAlive = num(/\[\[keepalive:(\d+)\]\]/);
  if (keepAlive !== undefined) out.keepAliveEvery = keepAlive;
  const delay = num(/\[\[(?:delay|slow):(\d+)\]\]/);
  if (delay !== undefined) out.delayMs = delay;
  const cut = num(/\[\[cut:(\d+)\]\]/);
  const midstream = num(/\[\[midstream:(\d+)\]\]/);
  const malformed = num(/\[\[malformed:(\d+)\]\]/);
  const stall = text.match(/\[\[stall(?::(\d+))?\]\]/);
  if (cut !== undefined) out.fault = { kind: 'cut', afterBytes: cut };
  else if (midstream !== undefined) out.fault = { kind: 'midstream', afterFrames: midstream };
  else if (malformed !== undefined) out.fault = { kind: 'malformed', afterFrames: malformed };
  else if (stall) out.fault = { kind: 'stall', afterBytes: stall[1] ? Number(stall[1]) : 1 };
  return out;
}

/** Deterministic reply and token counts: one token per whitespace-separated word (+3 per message). */
export function script(texts: string[], lastUser: string): Scripted {
  const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
  const fail = lastUser.match(/\[\[fail:(\d{3})\]\]/);
  const slow = lastUser.match(/\[\[slow:(\d+)\]\]/);
  const count = lastUser.match(/\[\[words:(\d+)\]\]/);
  const clean = lastUser.replace(/\[\[[^\]]*\]\]/g, '').trim() || 'nothing';
  const n = count ? Number(count[1]) : 0;
  const reply = n ? Array.from({ length: n }, (_, i) => `w${i}`) : ['Echo:', ...clean.split(/\s+/)];
  return {
    reply: reply.map((w, i) => (i ? ` ${w}` : w)),
    promptTokens: texts.reduce((sum, t) => sum + words(t) + 3, 0),
    fail: fail ? Number(fail[1]) : undefined,
    hang: /\[\[hang\]\]/.test(lastUser),
    slowMs: slow ? Number(slow[1]) : undefined,
    finish: lastUser.match(/\[\[finish:([A-Za-z_]+)\]\]/)?.[1],
    wire: wireDirectives(lastUser),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function sse(res: ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers });
  res.flushHeaders();
}

export interface Control {
  /** a status queued by failNext, if any */
  failed: () => number | undefined;
  /** a fixture or wire options queued by serveNext, if any */
  next: () => Served | undefined;
  /** the wire options in force: factory defaults, then setWire, then `extra` (a request's directives) */
  wire: (extra?: WireOptions) => WireOptions;
}

export async function startUpstream(
  rootPath: string,
  handle: (req: RecordedRequest, res: ServerResponse, control: Control) => Promise<void>,
  defaults: WireOptions = {},
): Promise<FakeUpstream> {
  const requests: RecordedRequest[] = [];
  const failures: number[] = [];
  const queued: Served[] = [];
  let current: WireOptions = { ...defaults };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: any;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const recorded = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
    requests.push(recorded);
    try {
      await handle(recorded, res, {
        failed: () => failures.shift(),
        next: () => queued.shift(),
        wire: (extra = {}) => ({ ...current, ...extra }),
      });
    } catch {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}${rootPath}`,
    port,
    requests,
    failNext(status, times = 1) {
      for (let i = 0; i < times; i++) failures.push(status);
    },
    serveNext(what, times = 1) {
      for (let i = 0; i < times; i++) queued.push(what);
    },
    setWire(options) {
      current = { ...options };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Answers a queued recorded fixture, if the fake has one for this request. Returns the wire options of a
 * queued `{wire}` entry (for the echo answer) or true when the fixture was served.
 */
export async function serveQueued(res: ServerResponse, served: Served | undefined, profile: WireProfile, control: Control): Promise<WireOptions | true | undefined> {
  if (!served) return undefined;
  if ('error' in served) {
    writeError(res, served.error);
    return true;
  }
  if ('json' in served) {
    json(res, served.json.status, served.json.body, served.json.headers);
    return true;
  }
  if ('stream' in served) {
    await writeFrames(res, served.stream.frames, profile, control.wire(served.wire), served.stream.headers);
    return true;
  }
  return served.wire;
}

/** Writes a JSON body with a status. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export const textOf = (content: unknown): string =>
  typeof content === 'string' ? content : Array.isArray(content) ? content.map((p: any) => p?.text ?? '').join('') : '';
