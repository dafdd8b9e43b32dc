import type { Config } from './config.js';
import type { KernelServices } from './http/context.js';

/**
 * The kernel part of every function's services: configuration and the database. Both modules load
 * here, with the first request that needs services, so a function's entry starts without them.
 */
export async function kernelServices(cfg?: Config): Promise<KernelServices> {
  cfg ??= (await import('./config.js')).config();
  const { openDatabase } = await import('./db/index.js');
  const database = await openDatabase(cfg);
  return { config: cfg, database, close: () => database.close() };
}

/**
 * Memoises an async factory once per instance, and lets shutdown close only what was opened.
 * A failed attempt is forgotten, so a transient failure (database not reachable yet) is retried by
 * the next request instead of leaving the instance broken for good.
 */
export function lazy<S extends { close?: () => Promise<void> }>(factory: () => Promise<S>) {
  let promise: Promise<S> | undefined;
  return {
    get: () =>
      (promise ??= factory().catch((err) => {
        promise = undefined;
        throw err;
      })),
    async close() {
      if (!promise) return;
      const s = await promise.catch(() => undefined);
      await s?.close?.();
    },
  };
}
