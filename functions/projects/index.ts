import { serveFunction } from '../shared/http/serve.js';
import { kernelServices, lazy } from '../shared/services.js';
import { buildProjectsApp } from './app.js';
import { buildProjectsServices } from './services.js';

const services = lazy(async () => buildProjectsServices(await kernelServices()));
serveFunction('projects', buildProjectsApp(services.get), services.close);
