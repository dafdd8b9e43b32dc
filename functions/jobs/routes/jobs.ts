import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { sealAudit } from '../../shared/audit/sealer.js';
import { drainOutbox, replayParked } from '../../shared/events/drain.js';
import { ok, problemResponses } from '../../shared/http/index.js';
import type { JobsEnv } from '../app.js';
import type { JobsServices } from '../services.js';
import { checkProviderHealth } from '../service/health.js';
import { cleanup, maintainPartitions } from '../service/housekeeping.js';
import { runJob } from '../service/runner.js';
import { aggregateUsage, aggregationDay } from '../service/usage.js';
import { maintenanceJobs } from './maintenance.js';
import { scheduled } from './scheduled.js';

export const JobRunSchema = z
  .object({
    job: z.string(),
    run_id: z.string().uuid(),
    status: z.enum(['succeeded', 'failed', 'skipped']),
    started_at: z.string(),
    finished_at: z.string(),
    stats: z.record(z.string(), z.unknown()),
  })
  .openapi('JobRun');

/** What one scheduled job does; `exclusive` jobs take an advisory lock so overlapping runs skip instead of colliding. */
export interface JobDefinition {
  path: string;
  summary: string;
  exclusive: boolean;
  query?: z.ZodObject;
  /** Refuses a bad request (4xx) before a run is recorded. */
  check?(query: Record<string, string | undefined>): void;
  run(services: JobsServices, query: Record<string, string | undefined>): Promise<Record<string, unknown>>;
}

/** One run of the drain job stays well inside the scheduler's attempt deadline. */
const DRAIN_BUDGET_MS = 45_000;

export const jobs: JobDefinition[] = [
  {
    path: '/drain-outbox',
    summary: 'Deliver due outbox events to the EventSink (parallel runs claim disjoint batches).',
    exclusive: false,
    run: async (s) => ({ ...(await drainOutbox(s.database, await s.sink(), { budgetMs: DRAIN_BUDGET_MS })) }),
  },
  {
    path: '/aggregate-usage',
    summary: 'daily_usage for a closed UTC day (default yesterday) and reconciliation of request_logs vs usage_tracking.',
    exclusive: true,
    query: z.object({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional() }),
    check: (q) => void aggregationDay(q.day),
    run: async (s, q) => aggregateUsage(s.database, { sink: await s.sink(), day: aggregationDay(q.day) }),
  },
  {
    path: '/provider-health',
    summary: 'Probe every enabled catalog provider; status changes after 3 agreeing results and emits an event.',
    exclusive: true,
    run: (s) => checkProviderHealth(s.database, { probe: s.probe }),
  },
  {
    path: '/maintain-partitions',
    summary: 'Audit partitions 3 months ahead (no default partition) and daily analytics partitions.',
    exclusive: true,
    run: (s) => maintainPartitions(s.database),
  },
  {
    path: '/cleanup',
    summary: "Delete expired password resets, invitations, artifacts (their stored objects first, then their rows), embedded sessions and old operational rows.",
    exclusive: true,
    run: async (s) => cleanup(s.database, { store: await s.objects() }),
  },
  {
    path: '/seal-audit',
    summary: 'Seal audit rows below the snapshot horizon into the signed hash chain and export them.',
    exclusive: true,
    run: async (s) => ({ ...(await sealAudit(s.database, s.signer())) }),
  },
  {
    path: '/replay-parked',
    summary: 'Operator action: put parked outbox events (all, or ?event_ids=a,b) back in the queue; the next drain retries them.',
    exclusive: false,
    query: z.object({ event_ids: z.string().regex(/^[0-9a-f-]{36}(,[0-9a-f-]{36})*$/i).optional() }),
    run: async (s, q) => ({ replayed: await replayParked(s.database, q.event_ids?.split(',')) }),
  },
  ...maintenanceJobs,
];

export function registerJobs(app: OpenAPIHono<JobsEnv>) {
  for (const job of jobs) {
    const route = createRoute({
      method: 'post',
      path: job.path,
      summary: job.summary,
      // Every job answers only to the scheduler's OIDC token; probes and the OpenAPI document are the kernel's.
      ...scheduled(),
      ...(job.query ? { request: { query: job.query } } : {}),
      responses: { 200: ok(JobRunSchema, 'the recorded job run'), ...problemResponses },
    });
    app.openapi(route, async (c) => {
      const query = (job.query ? c.req.valid('query' as never) : {}) as Record<string, string | undefined>;
      job.check?.(query);
      const services = c.var.services;
      const result = await runJob(services.database, { job: job.path.slice(1), exclusive: job.exclusive }, () => job.run(services, query));
      c.var.log.info('job finished', { job: result.job, status: result.status, runId: result.run_id });
      return c.json(result, 200);
    });
  }
}
