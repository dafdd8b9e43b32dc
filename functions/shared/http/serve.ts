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
  keepFrameworkOffSignals();
  for (const signal of SIGNALS) process.once(signal, () => stop(name, onShutdown, 0));
  for (const event of CRASHES) process.on(event, (err: unknown) => crashed(name, err, onShutdown));
}

let stopping: Promise<void> | undefined;

/** One drain and one onShutdown per process, whether a signal, a crash or both started it. */
function stop(name: string, onShutdown: (() => Promise<void>) | undefined, code: number): void {
  stopping ??= shutdown(name, onShutdown);
  void stopping.finally(() => process.exit(code));
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
const CRASHES = ['uncaughtException', 'unhandledRejection'] as const;
const TAKEN_OVER: readonly (string | symbol)[] = [...SIGNALS, ...CRASHES];

/**
 * An exception no request's promise chain caught (framework.ts, "direct"): the request it came from
 * answers 500, then the instance drains as on SIGTERM and exits 1 (Cloud Run starts another). Its
 * state after an unknown exception is not to be trusted, but its other calls were fine: they finish,
 * their settles are written, and only new requests are turned away (503, Retry-After) meanwhile.
 */
function crashed(name: string, err: unknown, onShutdown?: () => Promise<void>): void {
  rootLogger.error('uncaught exception: answering its request 500, draining and restarting the instance', { function: name, error: err });
  const scope = currentRequest();
  if (scope && !scope.res.writableEnded) finalHandler(scope.req, scope.res, err);
  stop(name, onShutdown, 1);
}
const GUARDED = Symbol.for('lattice.signals.guarded');

/**
 * functions-framework's main.js, once its server listens, registers its own SIGINT/SIGTERM,
 * uncaughtException and unhandledRejection handlers (build/src/invoker.js ErrorHandler.register:
 * sendCrashResponse to the latest request, then a synchronous `process.exit()`).
 * Node runs every listener of a signal, so that exit would cut our drain short: in-flight calls,
 * the settle batcher's flush and the quota leases' return would all be lost. The framework's handler
 * is recognised by where it is registered from (its invoker module) and removed right after it is
 * added ('newListener' fires before the listener is attached); other listeners are left alone.
 */
function keepFrameworkOffSignals(): void {
  const proc = process as unknown as Record<symbol, unknown>;
  if (proc[GUARDED]) return;
  proc[GUARDED] = true;
  process.on('newListener', (event, fn) => {
    if (!TAKEN_OVER.includes(event)) return;
    const stack = new Error().stack ?? '';
    if (!/functions-framework[\\/]build[\\/]src[\\/]invoker\.js/.test(stack)) return;
    process.nextTick(() => process.removeListener(event as NodeJS.Signals, fn as () => void));
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
