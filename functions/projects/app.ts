import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApp, requireAuth, type FunctionEnv } from '../shared/http/index.js';
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

/** Paths served without a caller: liveness, readiness and the API description. */
const PUBLIC = new Set(['/healthz', '/readyz', '/openapi.json']);
/** The embedded artifact store's links carry their own signature instead of a bearer token. */
const OBJECT_LINK = /(^|\/)artifact-objects\//;

/** The projects function: its table of contents. Each resource registers itself from routes/. */
export function buildProjectsApp(services: () => Promise<ProjectsServices>): OpenAPIHono<ProjectsEnv> {
  const app = createApp<ProjectsServices>({ name: 'projects', services });
  const auth = requireAuth();
  app.use('*', (c, next) => (PUBLIC.has(c.req.path) || OBJECT_LINK.test(c.req.path) ? next() : auth(c as never, next)));

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
