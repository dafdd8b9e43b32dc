import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import type { EventSink, SinkEvent } from './port.js';
import { rowsOf } from '../db/rows.js';
import type { Stream } from './outbox.js';

export interface DrainOptions {
  /** Who holds the lease (locked_by); unique per drainer run. */
  workerId?: string;
  batchSize?: number;
  /** How long a claim stays ours; must exceed the sink's request timeout. */
  leaseSeconds?: number;
  /** After this many failed attempts an event is parked (parked_at) for an operator to replay. */
  maxAttempts?: number;
  /** Stop claiming new batches after this many (one run of the job stays bounded). */
  maxBatches?: number;
  /** Stop claiming new batches after this time (ms since start). */
  budgetMs?: number;
  signal?: AbortSignal;
  /**
   * The drainer's clock for due times, leases, backoff and delivery marks. By default the database's
   * now(), so drainers on machines with skewed clocks agree; tests pass a fixed instant.
   */
  now?: () => Date;
}

export interface DrainStats {
  batches: number;
  claimed: number;
  delivered: number;
  failed: number;
  parked: number;
}

const clockSql = (now: (() => Date) | undefined) => (now ? sql`${now().toISOString()}::timestamptz` : sql`now()`);

/** drizzle expands a JS array into a row of parameters; one array literal keeps it one parameter. */
export const uuidArray = (ids: string[]) => `{${ids.filter((id) => /^[0-9a-f-]{36}$/i.test(id)).join(',')}}`;

export const MAX_BACKOFF_SECONDS = 3600;
/** 2^attempts seconds, capped at one hour. */
export const backoffSeconds = (attempts: number) => Math.min(2 ** Math.max(0, attempts), MAX_BACKOFF_SECONDS);

interface Claimed {
  id: string;
  event_id: string;
  stream: Stream;
  org_id: string | null;
  occurred_at: string | Date;
  payload: Record<string, unknown>;
  attempts: number;
}

/**
 * Claims one batch: due, undelivered, unparked rows whose lease is free. FOR UPDATE SKIP LOCKED lets
 * parallel drainers take disjoint batches without waiting; the lease (locked_until) keeps the batch ours
 * after this statement commits, and a drainer that dies simply lets its lease run out. attempts counts
 * claims, so an event that crashes its drainer every time still reaches maxAttempts and gets parked.
 */
export interface ClaimedEvent extends SinkEvent {
  /** Claims so far, this one included. */
  attempts: number;
}

export async function claimBatch(database: Database, workerId: string, batchSize: number, leaseSeconds: number, now?: () => Date): Promise<ClaimedEvent[]> {
  const at = clockSql(now);
  const result = await database.db.execute(sql`
    with due as (
      select id from ops.outbox
      where delivered_at is null and parked_at is null and next_attempt_at <= ${at}
        and (locked_until is null or locked_until < ${at})
      order by next_attempt_at, id
      limit ${batchSize}
      for update skip locked
    )
    update ops.outbox o
    set locked_until = ${at} + make_interval(secs => ${leaseSeconds}), locked_by = ${workerId}, attempts = o.attempts + 1
    from due where o.id = due.id
    returning o.id, o.event_id, o.stream, o.org_id, o.occurred_at, o.payload, o.attempts`);
  return rowsOf<Claimed>(result).map((r) => ({
    eventId: r.event_id,
    stream: r.stream,
    orgId: r.org_id,
    occurredAt: new Date(r.occurred_at),
    payload: r.payload,
    attempts: r.attempts,
  }));
}

/**
 * Delivers due outbox events to the sink until none are due (or the budget runs out). At least once:
 * a batch the sink accepted but we failed to mark is sent again after its lease; the sink dedups by
 * event_id (insertId in BigQuery, primary key in analytics.*).
 */
export async function drainOutbox(database: Database, sink: EventSink, options: DrainOptions = {}): Promise<DrainStats> {
  const workerId = options.workerId ?? `drain-${randomUUID()}`;
  const batchSize = options.batchSize ?? 500;
  const leaseSeconds = options.leaseSeconds ?? 60;
  const maxAttempts = options.maxAttempts ?? 10;
  const started = Date.now();
  const stats: DrainStats = { batches: 0, claimed: 0, delivered: 0, failed: 0, parked: 0 };

  while (!options.signal?.aborted) {
    if (options.maxBatches !== undefined && stats.batches >= options.maxBatches) break;
    if (options.budgetMs !== undefined && Date.now() - started >= options.budgetMs) break;
    const batch = await claimBatch(database, workerId, batchSize, leaseSeconds, options.now);
    if (!batch.length) break;
    stats.batches++;
    stats.claimed += batch.length;

    let outcome;
    try {
      outcome = await sink.send(batch);
    } catch (err) {
      // A sink that throws instead of reporting failures: the whole batch is transient.
      outcome = { delivered: [], failed: batch.map((e) => ({ eventId: e.eventId, error: (err as Error).message, permanent: false })) };
    }
    if (outcome.delivered.length) {
      await database.db.execute(sql`
        update ops.outbox set delivered_at = ${clockSql(options.now)}, locked_until = null, last_error = null
        where event_id = any(${uuidArray(outcome.delivered)}::uuid[]) and delivered_at is null and parked_at is null`);
      stats.delivered += outcome.delivered.length;
    }
    if (outcome.failed.length) {
      const attemptsOf = new Map(batch.map((e) => [e.eventId, e.attempts]));
      const failures = outcome.failed.map((f) => {
        const attempts = attemptsOf.get(f.eventId) ?? maxAttempts;
        const park = f.permanent || attempts >= maxAttempts;
        return { event_id: f.eventId, error: f.error.slice(0, 2000), park, retry_in: backoffSeconds(attempts) };
      });
      // Only while the lease is still ours: a drainer that outlived its lease must not undo another's claim.
      await database.db.execute(sql`
        update ops.outbox o
        set last_error = f.error, locked_until = null,
            parked_at = case when f.park then ${clockSql(options.now)} end,
            next_attempt_at = case when f.park then o.next_attempt_at else ${clockSql(options.now)} + make_interval(secs => f.retry_in) end
        from jsonb_to_recordset(${JSON.stringify(failures)}::jsonb) as f(event_id uuid, error text, park boolean, retry_in integer)
        where o.event_id = f.event_id and o.locked_by = ${workerId} and o.delivered_at is null and o.parked_at is null`);
      stats.failed += failures.length;
      stats.parked += failures.filter((f) => f.park).length;
    }
  }
  return stats;
}

/** Operator action: puts parked events (all, or the given ids) back in the queue with a fresh attempt count. */
export async function replayParked(database: Database, eventIds?: string[]): Promise<number> {
  const result = await database.db.execute(sql`
    update ops.outbox set parked_at = null, attempts = 0, next_attempt_at = now(), locked_until = null, locked_by = null
    where parked_at is not null ${eventIds ? sql`and event_id = any(${uuidArray(eventIds)}::uuid[])` : sql``}
    returning id`);
  return rowsOf(result).length;
}
