import { buildAuthApp } from '../../../functions/auth/app.js';
import { DEFAULT_LIMITS, type RateLimitPolicy } from '../../../functions/auth/service/rate-limit.js';
import { buildAuthServices } from '../../../functions/auth/services.js';
import { buildJobsApp } from '../../../functions/jobs/app.js';
import { schedulerVerifier } from '../../../functions/jobs/service/oidc.js';
import { buildJobsServices } from '../../../functions/jobs/services.js';
import { buildProjectsApp } from '../../../functions/projects/app.js';
import { buildProjectsServices } from '../../../functions/projects/services.js';
import { buildProvidersApp } from '../../../functions/providers/app.js';
import { buildProvidersServices } from '../../../functions/providers/services.js';
import type { Database } from '../../../functions/shared/db/database.js';
import { testKernel } from '../app.js';
import type { OpenApiDoc } from './openapi.js';

/**
 * Every deployable function built the way its own tests build it (test config, the file's database),
 * so the reliability suite covers whatever routes each one serves today and any added later.
 */
export interface FunctionUnderTest {
  name: string;
  app: { request: (input: string, init?: RequestInit) => Response | Promise<Response> };
  doc: OpenApiDoc;
  /** A credential this function accepts, when it is not a user's access token (jobs: the scheduler's). */
  credential?: string;
}

/** The scheduler's OIDC token as the suite's jobs function accepts it; anything else goes to the real verifier. */
export const SCHEDULER_TOKEN = 'reliability-scheduler-oidc-token';

/** Rate limits high enough that the suite's volume never meets them (their own tests cover them). */
const RELAXED = Object.fromEntries(Object.keys(DEFAULT_LIMITS).map((k) => [k, { max: 1_000_000, windowSeconds: 900 }])) as unknown as RateLimitPolicy;

/** Cheap argon2 parameters: the suite sends hundreds of passwords; strength is not what it tests. */
const FAST_ARGON2 = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

/** The suite never reaches Google: the JWKS URL points at a closed loopback port. */
export const JOBS_ENV = { JOBS_AUDIENCE: 'https://jobs.reliability.test', JOBS_SERVICE_ACCOUNT: 'scheduler@reliability.iam.gserviceaccount.com', JOBS_JWKS_URL: 'http://127.0.0.1:9/certs' };

export interface BuildOptions {
  /** Captured password-reset mails (so reset tokens never reach a log line). */
  mails?: unknown[];
}

export async function buildFunctions(database: Database, options: BuildOptions = {}): Promise<FunctionUnderTest[]> {
  const mails = options.mails ?? [];
  const kernel = () => testKernel(database, JOBS_ENV);
  const builders: { name: string; credential?: string; build: () => Promise<FunctionUnderTest['app']> }[] = [
    {
      name: 'auth',
      build: async () => {
        const services = await buildAuthServices(kernel(), {
          mailer: { kind: 'capture', sendPasswordReset: async (m) => void mails.push(m), sendInvitation: async () => {}, sendEmailVerification: async () => {} },
          forgotAnswerFloorMs: 0,
          limits: RELAXED,
          passwords: { params: FAST_ARGON2, queueTimeoutMs: 60_000 },
        });
        return buildAuthApp(async () => services);
      },
    },
    { name: 'projects', build: async () => buildProjectsApp(() => buildProjectsServices(kernel())) },
    {
      name: 'providers',
      build: async () => {
        const services = await buildProvidersServices(kernel(), { platformKeys: {} });
        return buildProvidersApp(async () => services);
      },
    },
    {
      name: 'jobs',
      credential: SCHEDULER_TOKEN,
      build: async () => {
        const k = kernel();
        const real = schedulerVerifier(k.config);
        const services = await buildJobsServices(k, {
          verifyScheduler: async (token) => (token === SCHEDULER_TOKEN ? { email: JOBS_ENV.JOBS_SERVICE_ACCOUNT } : real(token)),
          // Provider health probes reach no network from the suite.
          probe: async () => ({ status: 'healthy', latencyMs: 1 }),
        });
        return buildJobsApp(async () => services);
      },
    },
  ];
  const out: FunctionUnderTest[] = [];
  for (const b of builders) {
    const app = await b.build();
    const res = await app.request('/openapi.json');
    if (res.status !== 200) throw new Error(`${b.name}: /openapi.json answered ${res.status}`);
    out.push({ name: b.name, app, doc: (await res.json()) as OpenApiDoc, credential: b.credential });
  }
  return out;
}
