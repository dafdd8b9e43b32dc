import { HttpProblem, type ErrorCatalog } from '../shared/http/index.js';

/** The jobs function's error catalog (the same shape as every function's: named problem factories). */
export const jobsErrors = {
  /** The run is recorded in ops.job_runs with its error; the answer names the run, never the error. */
  jobFailed: (job: string, runId: string) => new HttpProblem(500, 'job-failed', `${job} failed; see ops.job_runs ${runId}`, { run_id: runId }),
} satisfies ErrorCatalog;
