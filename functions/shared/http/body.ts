import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/**
 * Reads a request body ourselves, decoded, under the route's limit, before anything else buffers it.
 *
 * functions-framework (v5, `build/src/server.js`) runs express body-parser with `limit: '1024mb'` and
 * `inflate` on: a 2 KB gzip body became 2 MiB before our code ran, and chunked bodies were read in
 * full before any 413 (DESIGN.md §6). So we count DECODED bytes while the body streams, for identity,
 * gzip, deflate and br (the codings body-parser 2 inflates, `lib/read.js`), stop at the limit, and
 * refuse a compression ratio no JSON API body needs before it gets there.
 */
export const SUPPORTED_CODINGS = ['identity', 'gzip', 'x-gzip', 'deflate', 'br'] as const;
/** Decoded ÷ received bytes above which a body is refused early (gzip peaks near 1032:1 on zeros). */
export const MAX_COMPRESSION_RATIO = 100;
/** The ratio is judged only past this many decoded bytes: tiny bodies compress oddly. */
export const RATIO_FLOOR_BYTES = 64 * 1024;
/** A body that sends nothing for this long is refused (slow-body attacks hold instance concurrency). */
export const BODY_IDLE_TIMEOUT_MS = 30_000;
/** Room for a coding's headers and stored-block overhead on top of the decoded limit. */
const FRAMING_BYTES = 64 * 1024;

export class BodyRefused extends Error {
  override name = 'BodyRefused';
  constructor(
    readonly status: 400 | 408 | 413 | 415,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ReadOptions {
  limit: number;
  idleTimeoutMs?: number;
}

/** Whether the request announces a body (RFC 9112 §6.3: Transfer-Encoding, or a non-zero Content-Length). */
export function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

function decoderFor(coding: string): Transform | undefined {
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return undefined;
  }
}

/**
 * The decoded body, or a BodyRefused: 413 past `limit` decoded bytes or past the ratio bound, 415 for
 * a coding we do not decode (stacked codings included), 400 for a body that does not decode, 408 when
 * the client stops sending. On refusal the request is left paused: the caller answers and closes.
 */
export function readDecodedBody(req: IncomingMessage, options: ReadOptions): Promise<Buffer> {
  const { limit } = options;
  const coding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase() || 'identity';
  if (!(SUPPORTED_CODINGS as readonly string[]).includes(coding)) {
    return Promise.reject(new BodyRefused(415, 'unsupported-encoding', 'the request body uses a content coding this API does not accept (identity, gzip, deflate, br)'));
  }
  const declared = Number(req.headers['content-length']);
  // Codings expand incompressible data by a few bytes at most, so a longer body decodes past the limit.
  if (Number.isFinite(declared) && declared > limit + FRAMING_BYTES) return Promise.reject(tooLarge(limit));
  if (coding === 'identity' && declared > limit) return Promise.reject(tooLarge(limit));

  const decoder = decoderFor(coding);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let decoded = 0;
    let settled = false;
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => fail(new BodyRefused(408, 'body-timeout', 'the request body stopped arriving')), options.idleTimeoutMs ?? BODY_IDLE_TIMEOUT_MS);
      idle.unref();
    };
    const cleanup = () => {
      clearTimeout(idle);
      req.off('data', onRaw);
      req.off('end', onRawEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      if (decoder) {
        decoder.off('data', onDecoded);
        decoder.off('end', finish);
        decoder.off('error', onDecodeError);
      }
    };
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      cleanup();
      req.pause();
      decoder?.destroy();
      chunks.length = 0;
      reject(err);
    };
    const finish = () => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(Buffer.concat(chunks, decoded));
    };
    const onDecoded = (chunk: Buffer) => {
      decoded += chunk.length;
      if (decoded > limit) return fail(tooLarge(limit));
      if (decoder && decoded > RATIO_FLOOR_BYTES && decoded > received * MAX_COMPRESSION_RATIO) {
        return fail(new BodyRefused(413, 'compression-ratio', `the request body decompresses more than ${MAX_COMPRESSION_RATIO} times its size`));
      }
      chunks.push(chunk);
    };
    const onRaw = (chunk: Buffer) => {
      armIdle();
      received += chunk.length;
      if (received > limit + FRAMING_BYTES) return fail(tooLarge(limit));
      if (!decoder) return onDecoded(chunk);
      // Backpressure: the decoder's output is counted (and may refuse) before more input is fed.
      if (!decoder.write(chunk)) {
        req.pause();
        decoder.once('drain', () => !settled && req.resume());
      }
    };
    const onRawEnd = () => (decoder ? decoder.end() : finish());
    const onError = (err: Error) => fail(new BodyRefused(400, 'body-unreadable', `the request body could not be read: ${err.message}`));
    const onAborted = () => fail(new BodyRefused(400, 'body-unreadable', 'the client aborted the request body'));
    const onDecodeError = () => fail(new BodyRefused(400, 'malformed-encoding', `the request body is not valid ${coding}`));

    if (decoder) {
      decoder.on('data', onDecoded);
      decoder.on('end', finish);
      decoder.on('error', onDecodeError);
    }
    req.on('data', onRaw);
    req.on('end', onRawEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
    armIdle();
  });
}

function tooLarge(limit: number): BodyRefused {
  return new BodyRefused(413, 'body-too-large', `the request body is larger than ${limit} bytes once decoded`);
}

/**
 * After reading: the request now carries its decoded body in `rawBody` (what @hono/node-server's
 * `newRequest` reads, `dist/index.mjs`), with headers that describe it, and counts as finished for
 * body-parser (`read.js` skips a request `on-finished` reports finished), so nothing reads it twice.
 */
export function attachDecodedBody(req: IncomingMessage & { rawBody?: Buffer }, body: Buffer): void {
  req.rawBody = body;
  const drop = new Set(['content-encoding', 'transfer-encoding', 'content-length']);
  for (const name of drop) delete req.headers[name];
  req.headers['content-length'] = String(body.length);
  const raw: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (!drop.has(req.rawHeaders[i]!.toLowerCase())) raw.push(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  }
  raw.push('content-length', String(body.length));
  req.rawHeaders = raw;
}
