import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Principal } from '../security/tokens.js';
import type { Logger } from './logger.js';

/** What every function's instance builds once (lazily) and every request sees. */
export interface KernelServices {
  config: Config;
  database: Database;
  /** Extra readiness checks (e.g. Firestore): name → probe that throws when down. */
  readiness?: Record<string, () => Promise<void>>;
  close?: () => Promise<void>;
}

export interface KernelVariables {
  requestId: string;
  log: Logger;
  config: Config;
  database: Database;
  principal: Principal;
}

export type KernelEnv = { Variables: KernelVariables };

/**
 * The kernel's variables are typed on every Context (hono's ContextVariableMap), so kernel middleware
 * (requireAuth, requireRole, client-ip) is a plain MiddlewareHandler that any function's env accepts
 * without a cast; a function's own `services` stays in its FunctionEnv.
 */
declare module 'hono' {
  interface ContextVariableMap extends KernelVariables {}
}

/** A function's env: the kernel variables plus its own services object. */
export type FunctionEnv<S extends KernelServices> = { Variables: KernelVariables & { services: S } };
