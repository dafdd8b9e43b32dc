import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApp, type FunctionEnv } from '../shared/http/index.js';
import { registerAlerts } from './routes/alerts.js';
import { registerApiKeys } from './routes/api-keys.js';
import { API_KEY_SCHEME } from './routes/auth.js';
import { registerCatalog } from './routes/catalog.js';
import { registerGateway } from './routes/gateway.js';
import { registerKeys } from './routes/keys.js';
import { registerQuotas } from './routes/quotas.js';
import { registerUsage } from './routes/usage.js';
import type { ProvidersServices } from './services.js';

export type ProvidersEnv = FunctionEnv<ProvidersServices>;

/** The providers function: its table of contents. Each resource registers itself from routes/. */
export function buildProvidersApp(services: () => Promise<ProvidersServices>): OpenAPIHono<ProvidersEnv> {
  // Each route declares who may call it (routes/auth.ts): gateway API keys call models and read usage;
  // managing keys, API keys, quotas, alerts and the catalog needs a signed-in user's access token.
  const app = createApp<ProvidersServices>({ name: 'providers', services });
  app.openAPIRegistry.registerComponent('securitySchemes', API_KEY_SCHEME, {
    type: 'http', scheme: 'bearer', bearerFormat: 'llk_…', description: 'A gateway API key (POST /api-keys), limited to its scopes',
  });
  registerGateway(app);
  registerCatalog(app);
  registerKeys(app);
  registerApiKeys(app);
  registerQuotas(app);
  registerUsage(app);
  registerAlerts(app);
  return app;
}
