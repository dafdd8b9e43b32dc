import { config as instanceConfig, type Config } from './config.js';
import { openDatabase } from './db/index.js';
import type { KernelServices } from './http/context.js';

/** The kernel part of every function's services: configuration and the database. */
export async function kernelServices(cfg: Config = instanceConfig()): Promise<KernelServices> {
  const database = await openDatabase(cfg);
  return { config: cfg, database, close: () => database.close() };
}

/** Memoises an async factory once per instance, and lets shutdown close only what was opened. */
export function lazy<S extends { close?: () => Promise<void> }>(factory: () => Promise<S>) {
  let promise: Promise<S> | undefined;
  return {
    get: () => (promise ??= factory()),
    async close() {
      if (!promise) return;
      const s = await promise.catch(() => undefined);
      await s?.close?.();
    },
  };
}
