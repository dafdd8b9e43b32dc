import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgSchema, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps, ts } from './_columns.js';

export const opsSchema = pgSchema('ops');

/**
 * Transactional outbox: services insert in the caller's transaction; the relay job claims due rows
 * (FOR UPDATE SKIP LOCKED, sets locked_until/locked_by), delivers to the EventSink, and retries with backoff
 * via next_attempt_at; after N attempts it parks the event (parked_at) instead of retrying forever.
 * Not a tenant table (the relay serves all orgs), so org_id is informational and has no FK: an event must
 * still be deliverable after its org is gone.
 */
export const outbox = opsSchema.table(
  'outbox',
  {
    id: id(),
    eventId: uuid('event_id').notNull().default(sql`gen_random_uuid()`),
    stream: text('stream').notNull(),
    orgId: uuid('org_id'),
    payload: jsonb('payload').notNull(),
    occurredAt: ts('occurred_at').notNull().defaultNow(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull().defaultNow(),
    lockedUntil: ts('locked_until'),
    lockedBy: text('locked_by'),
    lastError: text('last_error'),
    deliveredAt: ts('delivered_at'),
    parkedAt: ts('parked_at'),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('outbox_event_id_uq').on(t.eventId),
    index('outbox_pending_idx').on(t.nextAttemptAt).where(sql`${t.deliveredAt} IS NULL AND ${t.parkedAt} IS NULL`),
    index('outbox_parked_idx').on(t.parkedAt).where(sql`${t.parkedAt} IS NOT NULL`),
    index('outbox_delivered_at_idx').on(t.deliveredAt).where(sql`${t.deliveredAt} IS NOT NULL`),
    check('outbox_stream_check', sql`${t.stream} IN ('request_logs', 'audit_events', 'daily_usage', 'domain_events')`),
    check('outbox_attempts_check', sql`${t.attempts} >= 0`),
    check('outbox_delivered_or_parked_check', sql`${t.deliveredAt} IS NULL OR ${t.parkedAt} IS NULL`),
  ],
);

/** One row per scheduled job execution (cleanup, partitions, sealing, outbox relay, ...). */
export const jobRuns = opsSchema.table(
  'job_runs',
  {
    id: id(),
    job: text('job').notNull(),
    startedAt: ts('started_at').notNull().defaultNow(),
    finishedAt: ts('finished_at'),
    status: text('status').notNull().default('running'),
    stats: jsonb('stats').notNull().default(sql`'{}'::jsonb`),
    error: text('error'),
    ...timestamps,
  },
  (t) => [
    index('job_runs_job_started_at_idx').on(t.job, t.startedAt.desc()),
    index('job_runs_running_idx').on(t.job).where(sql`${t.status} = 'running'`),
    check('job_runs_job_check', sql`char_length(${t.job}) BETWEEN 1 AND 100`),
    check('job_runs_status_check', sql`${t.status} IN ('running', 'succeeded', 'failed', 'skipped')`),
    check('job_runs_finished_at_check', sql`(${t.status} = 'running') = (${t.finishedAt} IS NULL)`),
  ],
);

/**
 * Fixed-window counters for the auth function (e.g. key 'login:ip:1.2.3.4'): one upsert per attempt,
 *   INSERT ... ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1 RETURNING count;
 * old windows are deleted by a job (window_start index).
 */
export const rateLimits = opsSchema.table(
  'rate_limits',
  {
    key: text('key').notNull(),
    windowStart: ts('window_start').notNull(),
    count: integer('count').notNull().default(0),
    ...timestamps,
  },
  (t) => [
    primaryKey({ name: 'rate_limits_pkey', columns: [t.key, t.windowStart] }),
    index('rate_limits_window_start_idx').on(t.windowStart),
    check('rate_limits_key_check', sql`char_length(${t.key}) BETWEEN 1 AND 300`),
    check('rate_limits_count_check', sql`${t.count} >= 0`),
  ],
);
