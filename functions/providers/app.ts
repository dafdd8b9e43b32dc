import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApp, type FunctionEnv } from '../shared/http/index.js';
import type { ProvidersServices } from './services.js';

export type ProvidersEnv = FunctionEnv<ProvidersServices>;

/** The providers function: its table of contents. Each resource registers itself from routes/. */
export function buildProvidersApp(services: () => Promise<ProvidersServices>): OpenAPIHono<ProvidersEnv> {
  const app = createApp<ProvidersServices>({ name: 'providers', services });
  return app;
}
