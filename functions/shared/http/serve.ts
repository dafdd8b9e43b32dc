import * as ff from '@google-cloud/functions-framework';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import { installFrameworkErrorHandling } from './framework.js';
import { rootLogger } from './logger.js';

/**
 * Registers a Hono app as an HTTP Cloud Function. On SIGTERM (Cloud Run allows ~10 s) the
 * instance finishes in-flight requests, then `onShutdown` closes the pool.
 */
export function serveFunction(name: string, app: Hono<any>, onShutdown?: () => Promise<void>): void {
  installFrameworkErrorHandling();
  ff.http(name, getRequestListener(app.fetch));
  if (onShutdown) {
    process.once('SIGTERM', () => {
      rootLogger.info('SIGTERM: closing', { function: name });
      onShutdown()
        .catch((err) => rootLogger.error('shutdown failed', { error: err }))
        .finally(() => process.exit(0));
    });
  }
}
