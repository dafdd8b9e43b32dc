import * as ff from '@google-cloud/functions-framework';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import { assertFunctionConfig, config, ConfigError } from '../config.js';
import { drain } from './drain.js';
import { currentRequest, finalHandler, installFrameworkErrorHandling } from './framework.js';
import { rootLogger } from './logger.js';

/** Cloud Run gives ~10 s after SIGTERM; leave time to close the pool after the requests drain. */
const DRAIN_MS = 8_000;

/**
 * Registers a Hono app as an HTTP Cloud Function. On SIGTERM the instance stops admitting
 * requests (503 + Retry-After), finishes the ones in flight, then `onShutdown` closes the pool.
 */
export function serveFunction(name: string, app: Hono<any>, onShutdown?: () => Promise<void>): void {
  // Configuration is checked at start, not at the first request: a production deploy with a missing
  // or weak secret must fail its revision, naming the variable, rather than serve errors.
  try {
    assertFunctionConfig(name, config());
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    rootLogger.error('refusing to start: invalid configuration', { function: name, detail: err.message });
    process.exit(1);
  }
  const listener = getRequestListener(app.fetch);
  installFrameworkErrorHandling(name, listener);
  ff.http(name, listener);
  served = { name, onShutdown };
  takeOverFrameworkHandlers();
  for (const signal of SIGNALS) process.once(signal, () => stop(0));
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** Cloud Run's SIGKILL comes 10 s after SIGTERM; a crash has no SIGTERM, so this bounds its drain too. */
const HARD_EXIT_MS = 9_500;
let served: { name: string; onShutdown?: () => Promise<void> } | undefined;
let stopping: Promise<void> | undefined;

/**
 * One drain and one onShutdown per process, whether a signal, a crash or both started it, and an exit
 * within HARD_EXIT_MS whatever onShutdown does (a dead database must not keep an instance answering 503).
 */
function stop(code: number): void {
  if (stopping) return;
  setTimeout(() => exit(code), HARD_EXIT_MS).unref();
  stopping = shutdown(served?.name ?? 'function', served?.onShutdown);
  void stopping.finally(() => exit(code));
}

function exit(code: number): void {
  try {
    process.exit(code);
  } catch {
    // A test runner's worker refuses process.exit by throwing: nothing more to do here.
  }
}

/** Answers the request a stray error came from (found through framework.ts's AsyncLocalStorage), if it is still open. */
function answerItsRequest(err: unknown): void {
  const scope = currentRequest();
  if (scope && !scope.res.writableEnded) finalHandler(scope.req, scope.res, err);
}

/**
 * An exception no request's promise chain caught (framework.ts, "direct"): the request it came from
 * answers 500, then the instance drains as on SIGTERM and exits 1 (Cloud Run starts another). Its
 * state after an unknown exception is not to be trusted, but its other calls were fine: they finish,
 * their settles are written, and only new requests are turned away (503, Retry-After) meanwhile.
 */
function uncaught(err: unknown): void {
  rootLogger.error('uncaught exception: answering its request 500, draining and restarting the instance', { function: served?.name, error: err });
  answerItsRequest(err);
  stop(1);
}

/**
 * A rejected promise nobody awaited: logged, and its request (if still open) answers 500, as the
 * framework's per-request domain did; the instance carries on, since a rejection unwinds no stack and
 * leaves no callback half-run.
 */
function unhandled(err: unknown): void {
  rootLogger.error('unhandled promise rejection', { function: served?.name, error: err });
  answerItsRequest(err);
}

const OURS: Partial<Record<string | symbol, (err: unknown) => void>> = { uncaughtException: uncaught, unhandledRejection: unhandled };
const TAKEN_OVER: readonly (string | symbol)[] = [...SIGNALS, 'uncaughtException', 'unhandledRejection', 'exit'];
const GUARDED = Symbol.for('lattice.signals.guarded');

/**
 * functions-framework's main.js, once its server listens, registers its own SIGINT/SIGTERM,
 * uncaughtException, unhandledRejection and exit handlers (build/src/invoker.js ErrorHandler.register:
 * sendCrashResponse to the latest request, then a synchronous `process.exit()`). Node runs every
 * listener of a signal, so that exit would cut our drain short: in-flight calls, the settle batcher's
 * flush and the quota leases' return would all be lost. The framework's handlers are recognised by where
 * they are registered from (its invoker module) and removed right after they are added ('newListener'
 * fires before the listener is attached); ours for the two error events take their place. Only there:
 * a process that serves without main.js (a test runner's worker) keeps its own error handling.
 */
function takeOverFrameworkHandlers(): void {
  const proc = process as unknown as Record<symbol, unknown>;
  if (proc[GUARDED]) return;
  proc[GUARDED] = true;
  process.on('newListener', (event, fn) => {
    if (!TAKEN_OVER.includes(event)) return;
    const stack = new Error().stack ?? '';
    if (!/functions-framework[\\/]build[\\/]src[\\/]invoker\.js/.test(stack)) return;
    process.nextTick(() => {
      process.removeListener(event as NodeJS.Signals, fn as () => void);
      const ours = OURS[event];
      if (ours && !process.listeners(event as NodeJS.Signals).includes(ours as never)) process.on(event as 'uncaughtException', ours);
    });
  });
}

/** The SIGTERM sequence, separate so it can be tested without signalling the test process. */
export async function shutdown(name: string, onShutdown?: () => Promise<void>, drainMs = DRAIN_MS): Promise<void> {
  rootLogger.info('draining', { function: name });
  const { drained, remaining } = await drain(drainMs);
  if (!drained) rootLogger.warn('requests still in flight at shutdown', { function: name, remaining });
  try {
    await onShutdown?.();
  } catch (err) {
    rootLogger.error('shutdown failed', { function: name, error: err });
  }
}
