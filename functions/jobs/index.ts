import { serveFunction } from '../shared/http/serve.js';
import { kernelServices, lazy } from '../shared/services.js';
import { buildJobsApp } from './app.js';
import { buildJobsServices } from './services.js';

const services = lazy(async () => buildJobsServices(await kernelServices()));
serveFunction('jobs', buildJobsApp(services.get), services.close);
