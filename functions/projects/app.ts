import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApp, type FunctionEnv } from '../shared/http/index.js';
import type { ProjectsServices } from './services.js';

export type ProjectsEnv = FunctionEnv<ProjectsServices>;

/** The projects function: its table of contents. Each resource registers itself from routes/. */
export function buildProjectsApp(services: () => Promise<ProjectsServices>): OpenAPIHono<ProjectsEnv> {
  const app = createApp<ProjectsServices>({ name: 'projects', services });
  return app;
}
