import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApp, type FunctionEnv } from '../shared/http/index.js';
import { registerAlerts } from './routes/alerts.js';
import { registerApiKeys } from './routes/api-keys.js';
import { AUTHENTICATED_PATHS, gatewayAuth, tokenOnly } from './routes/auth.js';
import { registerCatalog } from './routes/catalog.js';
import { registerGateway } from './routes/gateway.js';
import { registerKeys } from './routes/keys.js';
import { registerQuotas } from './routes/quotas.js';
import { registerUsage } from './routes/usage.js';
import type { ProvidersServices } from './services.js';

export type ProvidersEnv = FunctionEnv<ProvidersServices>;

/** The providers function: its table of contents. Each resource registers itself from routes/. */
export function buildProvidersApp(services: () => Promise<ProvidersServices>): OpenAPIHono<ProvidersEnv> {
  // Every providers route is behind gatewayAuth (AUTHENTICATED_PATHS): the document says so once.
  const app = createApp<ProvidersServices>({ name: 'providers', services, security: [{ bearer: [] }] });
  for (const path of AUTHENTICATED_PATHS) app.use(path, gatewayAuth);
  // Gateway keys call models; managing keys, API keys and the catalog needs a signed-in user.
  for (const path of ['/keys', '/keys/*', '/api-keys', '/api-keys/*', '/providers', '/providers/*']) app.use(path, tokenOnly);
  registerGateway(app);
  registerCatalog(app);
  registerKeys(app);
  registerApiKeys(app);
  registerQuotas(app);
  registerUsage(app);
  registerAlerts(app);
  return app;
}
