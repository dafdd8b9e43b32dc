import { serveFunction } from '../shared/http/serve.js';
import { kernelServices, lazy } from '../shared/services.js';
import { buildAuthApp } from './app.js';
import { buildAuthServices } from './services.js';

const services = lazy(async () => buildAuthServices(await kernelServices()));
serveFunction('auth', buildAuthApp(services.get), services.close);
