import { serveFunction } from '../shared/http/serve.js';
import { kernelServices, lazy } from '../shared/services.js';
import { buildProvidersApp } from './app.js';
import { buildProvidersServices } from './services.js';

const services = lazy(async () => buildProvidersServices(await kernelServices()));
serveFunction('providers', buildProvidersApp(services.get), services.close);
