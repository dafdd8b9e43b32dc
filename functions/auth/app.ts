import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApp, type FunctionEnv } from '../shared/http/index.js';
import type { AuthServices } from './services.js';

export type AuthEnv = FunctionEnv<AuthServices>;

/** The auth function: its table of contents. Each resource registers itself from routes/. */
export function buildAuthApp(services: () => Promise<AuthServices>): OpenAPIHono<AuthEnv> {
  const app = createApp<AuthServices>({ name: 'auth', services });
  return app;
}
