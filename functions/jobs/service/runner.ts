import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/db/database.js';
import { rowsOf } from '../../shared/db/rows.js';
import { jobsErrors } from '../errors.js';

export type JobStatus = 'succeeded' | 'failed' | 'skipped';

export interface JobResult {
  job: string;
  run_id: string;
  status: JobStatus;
  started_at: string;
  finished_at: string;
  stats: Record<string, unknown>;
}

/** Jobs whose parallel runs would collide take this session lock (pg_try_advisory_lock(ns, hashtext(job))). */
const LOCK_NAMESPACE = 7243200;

/**
 * Records an ops.job_runs row (visible as 'running' while it runs), runs `work`, and stores its stats.
 * With `exclusive`, a second run while one is in progress is recorded as 'skipped' instead of colliding
 * (Cloud Scheduler retries and overlapping schedules are normal). A failure is recorded, then answered
 * as a 500 problem so the scheduler retries.
 */
export async function runJob(
  database: Database,
  { job, exclusive }: { job: string; exclusive: boolean },
  work: () => Promise<Record<string, unknown>>,
): Promise<JobResult> {
  const [run] = rowsOf(await database.db.execute(sql`insert into ops.job_runs (job) values (${job}) returning id::text as id, started_at`));
  const runId = String(run!.id);
  const startedAt = new Date(run!.started_at as string).toISOString();
  const finish = async (status: JobStatus, stats: Record<string, unknown>, error?: string) => {
    const [done] = rowsOf(
      await database.db.execute(
        sql`update ops.job_runs set status = ${status}, stats = ${JSON.stringify(stats)}::jsonb, error = ${error ?? null}, finished_at = now() where id = ${runId} returning finished_at`,
      ),
    );
    return { job, run_id: runId, status, started_at: startedAt, finished_at: new Date(done!.finished_at as string).toISOString(), stats };
  };

  const lock = exclusive ? await database.connect() : undefined;
  try {
    if (lock) {
      const [got] = await lock.query<{ ok: boolean }>('select pg_try_advisory_lock($1, hashtext($2)) as ok', [LOCK_NAMESPACE, job]);
      if (!got?.ok) return await finish('skipped', { reason: 'another run of this job is in progress' });
    }
    let stats: Record<string, unknown>;
    try {
      stats = await work();
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      await finish('failed', {}, message.slice(0, 2000));
      throw jobsErrors.jobFailed(job, runId);
    }
    return await finish('succeeded', stats);
  } finally {
    if (lock) {
      await lock.query('select pg_advisory_unlock($1, hashtext($2))', [LOCK_NAMESPACE, job]).catch(() => {});
      await lock.release();
    }
  }
}
