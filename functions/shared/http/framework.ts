import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { attachDecodedBody, BodyRefused, hasBody, readDecodedBody } from './body.js';
import { isDraining, track } from './drain.js';
import { bodyLimitFor, isOpenAiPath } from './limits.js';
import { rootLogger } from './logger.js';
import { problems, problemType, toOpenAiError, type ProblemBody } from './problem.js';

/**
 * functions-framework parses every body with express body-parser (limit 1 GB) before our code
 * runs, and hands parse errors to express's default final handler: an HTML page with a stack
 * trace (functions-framework-nodejs#686). We give the framework's express a final handler of ours,
 * at the one place every request passes (`application.handle`), so malformed JSON answers 400
 * problem+json and nothing leaks a stack. Before express sees a request, we read its body ourselves
 * (decoded, counted while it streams: body.ts), so the framework's parsers find it finished and skip it.
 * The express instance is resolved from the framework's own location, so it is the one it uses.
 */
const PATCHED = Symbol.for('lattice.express.finalHandler');

type Listener = (req: IncomingMessage, res: ServerResponse) => unknown;
/**
 * The functions served by this process, by name (serve.ts). Held on globalThis, like the express patch
 * it goes with: a test runner that loads this module again in one process must not leave the patch
 * calling an earlier copy's function.
 */
const SERVED = Symbol.for('lattice.express.served');
const served: Map<string, Listener> = ((globalThis as Record<symbol, unknown>)[SERVED] ??= new Map()) as Map<string, Listener>;

/** The request each callback belongs to, so a crash can answer the request that caused it (serve.ts). */
const requestScope = new AsyncLocalStorage<{ req: IncomingMessage; res: ServerResponse }>();
export const currentRequest = () => requestScope.getStore();
/**
 * Runs `fn` outside any request's scope: work shared by many requests (the settle and reservation
 * batches, their timers) must not be blamed on the request that happened to start it if it crashes.
 */
export const outsideRequest = <T>(fn: () => T): T => requestScope.exit(fn);

/**
 * The one function this process serves, when it serves exactly one (production: one target per
 * instance), is called straight from express's entry: no express routing and body-parser middleware
 * per request, and no functions-framework wrapper (function_wrappers.js wrapHttpFunction), which runs
 * every call in a new `domain`; domains turn on async hooks with destroy tracking for every promise and
 * socket of the process (≈ 20 % of the gateway's CPU per request in a --cpu-prof of bench/gateway-cpu.ts).
 * What the domain did for an exception thrown outside a request's promise chain (a timer, a stream
 * 'error' without a listener) serve.ts does instead, as Node's domain documentation advises ("send an
 * error response to the request that triggered the error, while letting the others finish in their
 * normal time, and stop listening for new requests", nodejs.org/api/domain.html "Warning: don't ignore
 * errors!"): the request found through `currentRequest()` answers 500, the instance drains like on
 * SIGTERM (in-flight calls finish, settles are written) and exits for Cloud Run to replace it.
 * A process serving several functions (the dev server, some tests) keeps the framework's routing.
 */
function direct(): Listener | undefined {
  return served.size === 1 ? served.values().next().value : undefined;
}

export function installFrameworkErrorHandling(name?: string, listener?: Listener): void {
  if (name && listener) served.set(name, listener);
  const require = createRequire(import.meta.url);
  const frameworkEntry = require.resolve('@google-cloud/functions-framework');
  const express = createRequire(frameworkEntry)('express') as { application: Record<PropertyKey, unknown> };
  const proto = express.application;
  if (proto[PATCHED]) return;
  const original = proto.handle as (req: IncomingMessage, res: ServerResponse, cb?: (err?: unknown) => void) => void;
  proto.handle = function handle(this: unknown, req: IncomingMessage, res: ServerResponse, callback?: (err?: unknown) => void) {
    if (isDraining()) {
      req.resume();
      // The same answer a call caught waiting during the drain gets (problems.shuttingDown).
      const refusal = problems.shuttingDown();
      for (const [name, value] of Object.entries(refusal.extra.headers ?? {})) res.setHeader(name, value);
      return writeProblem(req, res, refusal.status, refusal.code, refusal.message);
    }
    track(res);
    const fast = direct();
    if (fast) {
      return withDecodedBody(req, res, () =>
        requestScope.run({ req, res }, () => {
          try {
            Promise.resolve(fast(req, res)).catch((err: unknown) => finalHandler(req, res, err));
          } catch (err) {
            finalHandler(req, res, err);
          }
        }),
      );
    }
    return withDecodedBody(req, res, () => original.call(this, req, res, callback ?? ((err?: unknown) => finalHandler(req, res, err))));
  };
  proto[PATCHED] = true;
}

/**
 * Runs `next` once the request's decoded body is attached (see body.ts), or answers the refusal and
 * closes the connection: a refused body is never read further, so the connection cannot be reused.
 * The dev server wraps its listener with this too, so both paths enforce the same limits.
 */
export function withDecodedBody(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  if (!hasBody(req)) return void next();
  readDecodedBody(req, { limit: bodyLimitFor(req.url ?? '/') }).then(
    (body) => {
      attachDecodedBody(req, body);
      next();
    },
    (err: unknown) => {
      if (!(err instanceof BodyRefused)) return finalHandler(req, res, err);
      res.setHeader('connection', 'close');
      res.once('finish', () => req.socket?.destroySoon?.());
      writeProblem(req, res, err.status, err.code, err.message);
    },
  );
}

export function finalHandler(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const type = (err as { type?: string } | undefined)?.type;
  if (!err) return writeProblem(req, res, 404, 'not-found', 'no route matches this path');
  if (type === 'entity.parse.failed') return writeProblem(req, res, 400, 'malformed-json', 'the request body is not valid JSON');
  if (type === 'entity.too.large') return writeProblem(req, res, 413, 'body-too-large', 'the request body is too large');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return writeProblem(req, res, 415, 'unsupported-media-type', 'unsupported body encoding or charset');
  }
  const status = Number((err as { status?: number }).status);
  if (status >= 400 && status < 500) return writeProblem(req, res, status, `http-${status}`, 'the request could not be read');
  rootLogger.error('unhandled framework error', { error: err, path: req.url });
  return writeProblem(req, res, 500, 'internal', 'an unexpected error occurred; quote the instance id when reporting it');
}

function writeProblem(req: IncomingMessage, res: ServerResponse, status: number, code: string, detail: string): void {
  const incoming = req.headers['x-request-id'];
  const instance = typeof incoming === 'string' && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
  const titles: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 408: 'Request Timeout', 413: 'Content Too Large', 415: 'Unsupported Media Type', 500: 'Internal Server Error', 503: 'Service Unavailable' };
  const body: ProblemBody = { type: problemType(code), title: titles[status] ?? 'Error', status, detail, instance };
  const openAi = isOpenAiPath(req.url ?? '');
  res.statusCode = status;
  res.setHeader('content-type', openAi ? 'application/json' : 'application/problem+json');
  res.setHeader('x-request-id', instance);
  res.end(JSON.stringify(openAi ? toOpenAiError(body) : body));
}
