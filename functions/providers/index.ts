import { serveFunction } from '../shared/http/serve.js';
import { kernelServices, lazy } from '../shared/services.js';
import { buildProvidersApp } from './app.js';

// services.ts (and what it opens: stores, clients, signers) is loaded with the first request that
// needs services, not at start: /healthz answers without it.
const services = lazy(async () => {
  const { buildProvidersServices } = await import('./services.js');
  return buildProvidersServices(await kernelServices());
});
serveFunction('providers', buildProvidersApp(services.get), services.close);
