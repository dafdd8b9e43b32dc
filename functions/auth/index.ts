import { serveFunction } from '../shared/http/serve.js';
import { kernelServices, lazy } from '../shared/services.js';
import { buildAuthApp } from './app.js';

// services.ts (and what it opens: stores, clients, signers) is loaded with the first request that
// needs services, not at start: /healthz answers without it.
const services = lazy(async () => {
  const { buildAuthServices } = await import('./services.js');
  return buildAuthServices(await kernelServices());
});
serveFunction('auth', buildAuthApp(services.get), services.close);
