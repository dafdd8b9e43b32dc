import type { ServerResponse } from 'node:http';

/**
 * How the fakes put a response on the wire. Real servers do not write one event per TCP segment: proxies
 * coalesce events, TLS records and TCP reads split them anywhere (inside a UTF-8 sequence, between `\r` and
 * `\n`), keep-alives arrive between events, and connections die mid-body. Everything here is deterministic
 * (seeded), so a failing property run can be replayed from its seed.
 */

/** One recorded or generated response stream: the exact bytes of each SSE frame, in order. */
export interface StreamFixture {
  name: string;
  /** Documentation pages (or SDK sources) the frames follow. */
  source: string[];
  status: number;
  headers: Record<string, string>;
  /** Each entry is one complete frame, terminator included (an event, or a `:` comment). */
  frames: string[];
}

/** One recorded error answer: what the provider sends instead of a 200. */
export interface ErrorFixture {
  name: string;
  source: string[];
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** One recorded JSON answer (non-streaming completions, embeddings, model lists). */
export interface JsonFixture {
  name: string;
  source: string[];
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** How the bytes of a body are cut into writes. */
export type Chunking =
  /** one write per frame (what a well-behaved server with no proxy does) */
  | 'frames'
  /** the whole body in one write (a buffering proxy) */
  | 'whole'
  /** one byte per write */
  | 'bytes1'
  /** fixed-size writes of n bytes, ignoring frame boundaries */
  | { every: number }
  /** random write sizes in 1..max (default 64) drawn from a seeded PRNG */
  | { seed: number; max?: number }
  /** cut at these byte offsets */
  | { at: number[] };

/** A failure to inject. */
export type Fault =
  /** answer this error (status, body, headers) before any byte of a 200 */
  | { kind: 'status'; error: ErrorFixture }
  /** after `afterFrames` frames, send the provider's own in-stream error event and end */
  | { kind: 'midstream'; afterFrames: number; message?: string }
  /** destroy the socket after `afterBytes` bytes of the body */
  | { kind: 'cut'; afterBytes: number }
  /** after `afterFrames` frames, send an event whose JSON is truncated, then carry on */
  | { kind: 'malformed'; afterFrames: number }
  /** write `afterBytes` bytes (default 1), then never write or end again */
  | { kind: 'stall'; afterBytes?: number };

export interface WireOptions {
  chunking?: Chunking;
  /** pause between writes (ms); 0 still yields to the event loop between writes */
  delayMs?: number;
  /** interleave the provider's keep-alive frame before the first frame and after every n frames */
  keepAliveEvery?: number;
  fault?: Fault;
}

/** The provider-specific frames the writer needs to inject keep-alives and failures. */
export interface WireProfile {
  keepAlive: string;
  /** the provider's in-stream error event */
  midstreamError(message?: string): string;
  /** a frame as the provider frames it, with its JSON cut short */
  malformed: string;
}

// ---------------------------------------------------------------------------------------------------------
// Framing

/** `data: <json>` framed with `\n\n` (OpenAI) or `\r\n\r\n` (Gemini's `?alt=sse`). */
export const dataFrame = (data: unknown, eol: '\n' | '\r\n' = '\n'): string =>
  `data: ${typeof data === 'string' ? data : JSON.stringify(data)}${eol}${eol}`;

/** A named event, as Anthropic frames them: `event: <name>\ndata: <json>\n\n`. */
export const namedFrame = (event: string, data: unknown): string =>
  `event: ${event}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;

/** An SSE comment (`: text`), ignored by every conforming decoder. */
export const commentFrame = (text: string, eol: '\n' | '\r\n' = '\n'): string => `: ${text}${eol}${eol}`;

// ---------------------------------------------------------------------------------------------------------
// Chunking

/** mulberry32: a tiny seeded PRNG, good enough to choose split points reproducibly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cuts `frames` into the writes a server would make under `chunking`. Concatenated, the writes are the frames. */
export function chunk(frames: string[], chunking: Chunking = 'frames'): Buffer[] {
  const bufs = frames.map((f) => Buffer.from(f, 'utf8'));
  if (chunking === 'frames') return bufs.filter((b) => b.length > 0);
  const all = Buffer.concat(bufs);
  if (chunking === 'whole') return all.length ? [all] : [];
  const cuts: number[] = [];
  if (chunking === 'bytes1') for (let i = 1; i < all.length; i++) cuts.push(i);
  else if ('every' in chunking) for (let i = chunking.every; i < all.length; i += Math.max(1, chunking.every)) cuts.push(i);
  else if ('at' in chunking) cuts.push(...chunking.at.filter((i) => i > 0 && i < all.length));
  else {
    const rand = prng(chunking.seed);
    const max = Math.max(1, chunking.max ?? 64);
    for (let i = 1 + Math.floor(rand() * max); i < all.length; i += 1 + Math.floor(rand() * max)) cuts.push(i);
  }
  const sorted = [...new Set(cuts)].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of sorted) {
    out.push(all.subarray(prev, c));
    prev = c;
  }
  if (prev < all.length) out.push(all.subarray(prev));
  return out;
}

/** The frames as the writer sends them once keep-alives and frame-level faults are applied. */
export function arrange(frames: string[], profile: WireProfile, options: WireOptions = {}): string[] {
  let list = [...frames];
  const fault = options.fault;
  if (fault?.kind === 'midstream') list = [...list.slice(0, fault.afterFrames), profile.midstreamError(fault.message)];
  if (fault?.kind === 'malformed') list = [...list.slice(0, fault.afterFrames), profile.malformed, ...list.slice(fault.afterFrames)];
  const every = options.keepAliveEvery ?? 0;
  if (every > 0) {
    const withPings: string[] = [profile.keepAlive];
    list.forEach((f, i) => {
      withPings.push(f);
      if ((i + 1) % every === 0 && i < list.length - 1) withPings.push(profile.keepAlive);
    });
    list = withPings;
  }
  return list;
}

// ---------------------------------------------------------------------------------------------------------
// Writing

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const yieldTurn = () => new Promise((r) => setImmediate(r));

function write(res: ServerResponse, buf: Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed || res.writableEnded) return resolve();
    res.write(buf, () => resolve());
  });
}

/** Resolves when the client goes away (or the fake closes), so a stalled writer does not leak a timer. */
const closed = (res: ServerResponse) =>
  new Promise<void>((resolve) => {
    if (res.destroyed) return resolve();
    res.once('close', () => resolve());
  });

/**
 * Without an explicit chunking, one write per frame: what a provider's server does with no proxy in between.
 * Tests that want harsher splits ask for them (`bytes1`, seeded random, ...).
 */
export const defaultChunking = (_options: WireOptions): Chunking => 'frames';

export function sseHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...extra };
}

/** Writes an error answer exactly as recorded. */
export function writeError(res: ServerResponse, error: ErrorFixture): void {
  const body = typeof error.body === 'string' ? error.body : JSON.stringify(error.body);
  res.writeHead(error.status, { 'content-type': 'application/json; charset=utf-8', ...error.headers });
  res.end(body);
}

/**
 * Streams `frames` with the given chunking, delays, keep-alives and faults. Headers are flushed first, as
 * providers do, so a `status` fault must be handled by the caller before calling this (see `serveStream`).
 */
export async function writeFrames(
  res: ServerResponse,
  frames: string[],
  profile: WireProfile,
  options: WireOptions = {},
  headers: Record<string, string> = sseHeaders(),
): Promise<void> {
  if (options.fault?.kind === 'status') return writeError(res, options.fault.error);
  if (!res.headersSent) {
    res.writeHead(200, headers);
    res.flushHeaders();
  }
  const fault = options.fault;
  let budget = fault?.kind === 'cut' ? fault.afterBytes : fault?.kind === 'stall' ? (fault.afterBytes ?? 1) : Infinity;
  for (const piece of chunk(arrange(frames, profile, options), options.chunking ?? defaultChunking(options))) {
    if (res.destroyed) return;
    const part = budget < piece.length ? piece.subarray(0, budget) : piece;
    if (part.length) await write(res, part);
    budget -= part.length;
    if (budget <= 0) {
      if (fault?.kind === 'cut') {
        res.socket?.destroy();
        return;
      }
      await closed(res); // stall: the client or the fake's close() ends it
      return;
    }
    if (options.delayMs) await sleep(options.delayMs);
    else await yieldTurn();
  }
  if (fault?.kind === 'stall') return closed(res); // a stall past the end still never finishes the body
  if (fault?.kind === 'cut') {
    res.socket?.destroy(); // a cut past the end still loses the terminating chunk
    return;
  }
  res.end();
}
