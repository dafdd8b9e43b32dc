import type { ServerResponse } from 'node:http';

/**
 * In-flight accounting for graceful shutdown. Cloud Run sends SIGTERM and allows ~10 s: the instance
 * answers new requests 503 (so the front end retries them elsewhere), lets the ones it has finish,
 * and only then closes the pool.
 */
let inFlight = 0;
let draining = false;
const idleWaiters = new Set<() => void>();
const drainListeners = new Set<() => void>();

/** Runs `fn` once a drain starts (at once if one has); returns the unsubscribe. */
export function onDrain(fn: () => void): () => void {
  if (draining) {
    fn();
    return () => {};
  }
  drainListeners.add(fn);
  return () => drainListeners.delete(fn);
}

export const isDraining = () => draining;
export const inFlightCount = () => inFlight;

/** Counts a request until its response finishes or its connection closes. */
export function track(res: ServerResponse): void {
  inFlight++;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    inFlight--;
    if (inFlight === 0) for (const wake of idleWaiters) wake();
  };
  res.once('finish', finish);
  res.once('close', finish);
}

/** Stops admitting requests and resolves when none is in flight, or after `timeoutMs` (whichever first). */
export function drain(timeoutMs: number): Promise<{ drained: boolean; remaining: number }> {
  draining = true;
  for (const fn of drainListeners) fn();
  drainListeners.clear();
  if (inFlight === 0) return Promise.resolve({ drained: true, remaining: 0 });
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      idleWaiters.delete(wake);
      resolve({ drained: true, remaining: 0 });
    };
    const timer = setTimeout(() => {
      idleWaiters.delete(wake);
      resolve({ drained: false, remaining: inFlight });
    }, timeoutMs);
    idleWaiters.add(wake);
  });
}

/** Test hook: back to serving. */
export function resetDrain(): void {
  draining = false;
}

