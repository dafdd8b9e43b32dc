import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApp, type FunctionEnv } from '../shared/http/index.js';
import { registerAnalysis } from './routes/analysis.js';
import { registerArtifacts } from './routes/artifacts.js';
import { registerAudit } from './routes/audit.js';
import { registerBaselines } from './routes/baselines.js';
import { registerCheckpoints } from './routes/checkpoints.js';
import { registerExperiments } from './routes/experiments.js';
import { registerPolicies } from './routes/policies.js';
import { registerPromotions } from './routes/promotions.js';
import { registerQuarantine } from './routes/quarantine.js';
import { registerProjects } from './routes/projects.js';
import { registerValidations } from './routes/validations.js';
import { registerVersions } from './routes/versions.js';
import type { ProjectsServices } from './services.js';

export type ProjectsEnv = FunctionEnv<ProjectsServices>;

/**
 * The projects function: its table of contents. Each resource registers itself from routes/; a route
 * that needs a caller says so with `...signedIn({ role })` (test/infra/openapi-security.policy.test.ts
 * keeps every operation declaring it). Probes and the API description are the kernel's.
 */
export function buildProjectsApp(services: () => Promise<ProjectsServices>): OpenAPIHono<ProjectsEnv> {
  const app = createApp<ProjectsServices>({ name: 'projects', services });
  registerProjects(app);
  registerValidations(app);
  registerCheckpoints(app);
  registerVersions(app);
  registerBaselines(app);
  registerPolicies(app);
  registerExperiments(app);
  registerPromotions(app);
  registerAnalysis(app);
  registerArtifacts(app);
  registerQuarantine(app);
  registerAudit(app);
  return app;
}
