import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApp, type FunctionEnv } from '../shared/http/index.js';
import { registerJobs } from './routes/jobs.js';
import { SCHEDULER_SCHEME, schedulerScheme } from './routes/scheduled.js';
import type { JobsServices } from './services.js';

export type JobsEnv = FunctionEnv<JobsServices>;

/** The jobs function: its table of contents. Each resource registers itself from routes/. */
export function buildJobsApp(services: () => Promise<JobsServices>): OpenAPIHono<JobsEnv> {
  const app = createApp<JobsServices>({ name: 'jobs', services });
  app.openAPIRegistry.registerComponent('securitySchemes', SCHEDULER_SCHEME, schedulerScheme);
  registerJobs(app);
  return app;
}
