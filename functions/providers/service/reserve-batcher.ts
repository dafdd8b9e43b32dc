import type { Database } from '../../shared/db/index.js';
import { pgErrorOf, PG } from '../../shared/db/errors.js';
import { groupBy } from '../../shared/group-by.js';
import { outsideRequest } from '../../shared/http/framework.js';
import { ensureCounters, MissingCounters, refusal, reserve, retryTransient, type Periods, type RefusalRow, type Reservation } from './quota.js';
import { refusesData } from './settle-batcher.js';
import { appRoleSql, tenantSql, type SqlTenant } from '../../shared/db/round-trip.js';

/**
 * Group-commit reservations: the reserve on the answer's path, written like the settles. Calls of all
 * tenants that arrive while a batch is in flight go together in the next one: ONE transaction (one
 * statement, providers.reserve_batch in migration 0012, one WAL flush) judges them in arrival order
 * against counters it locks once. No timer: a call that finds fewer than `maxConcurrent` batches in
 * flight goes at once (alone when the instance is quiet, so a lone call waits no longer than before),
 * and the batches grow only with the load (Nagle-free "smart batching", as a database's group commit).
 *
 * Exactness is the one-call RESERVE's: every call is judged under the counters' locks on what the
 * calls before it (in this batch and in committed ones) left; a refused call changes nothing and
 * leaves its room to the calls after it, so batching adds no false 429. A batch that fails for a lost
 * connection or a deadlock is tried again whole (nothing of it committed); a value the database
 * refuses fails the whole statement, so its calls then go one by one and only the bad one fails.
 */
export interface ReserveBatcherOptions {
  database: Database;
  /** The most calls in one statement. */
  maxBatch?: number;
  /** Batches in flight at once; further calls wait for the next one. */
  maxConcurrent?: number;
}

export const RESERVE_MAX_BATCH = 256;
export const RESERVE_MAX_CONCURRENT = 3;

const CALL = `select request_id, verdict, subject_type, period, token_limit, tokens_used, tokens_reserved, cost_limit_micros, cost_used_micros, cost_reserved_micros
from providers.reserve_batch($1::jsonb)`;

type Verdict = RefusalRow & { request_id: string; verdict: 'ok' | 'refused' | 'missing' | 'duplicate' };

interface Pending {
  tenant: SqlTenant;
  periods: Periods;
  r: Reservation;
  /** The period's counters were created for this call already (a second 'missing' is an error). */
  ensured: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

export class ReserveBatcher {
  private readonly database: Database;
  private readonly maxBatch: number;
  private readonly maxConcurrent: number;
  private queue: Pending[] = [];
  private running = 0;
  /** Batch statements committed and the calls they judged (tests, benchmarks). */
  readonly stats = { batches: 0, calls: 0 };

  constructor(options: ReserveBatcherOptions) {
    this.database = options.database;
    this.maxBatch = Math.max(1, options.maxBatch ?? RESERVE_MAX_BATCH);
    this.maxConcurrent = Math.max(1, options.maxConcurrent ?? RESERVE_MAX_CONCURRENT);
  }

  /** Resolves once the call's reservation is committed; rejects with the 429 naming the limit it would pass. */
  reserve(tenant: SqlTenant, periods: Periods, r: Reservation): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ tenant, periods, r, ensured: false, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    while (this.running < this.maxConcurrent && this.queue.length) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.running++;
      // Outside the request that happened to start it: a failure in the batch is no one request's.
      void outsideRequest(() => this.write(batch))
        .catch((err: unknown) => {
          for (const p of batch) p.reject(err);
        })
        .finally(() => {
          this.running--;
          this.kick();
        });
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    let rows: Verdict[];
    try {
      const items = JSON.stringify(batch.map(item));
      rows = await retryTransient(() => appRoleSql(this.database, (q) => q.query<Verdict>(CALL, [items], { last: true, prepare: 'llc_quota_reserve_batch_v1' })));
    } catch (err) {
      if (refusesData(err) && batch.length > 1) {
        await Promise.all(batch.map((p) => this.write([p])));
        return;
      }
      if (pgErrorOf(err)?.code === PG.lockNotAvailable) {
        await this.afterLockTimeout(batch);
        return;
      }
      for (const p of batch) p.reject(err);
      return;
    }
    this.stats.batches++;
    this.stats.calls += batch.length;
    const byId = new Map(rows.map((row) => [row.request_id, row]));
    const missing: Pending[] = [];
    for (const p of batch) {
      const row = byId.get(p.r.requestId);
      if (row?.verdict === 'ok') p.resolve();
      else if (row?.verdict === 'refused') p.reject(refusal(row, p.r, p.periods));
      else if (row?.verdict === 'missing' && !p.ensured) missing.push(p);
      else if (row?.verdict === 'missing') p.reject(new MissingCounters('quota counters of this period are missing'));
      else p.reject(new Error(`reservation ${p.r.requestId} ${row ? 'already exists' : 'was not judged by the batch'}`));
    }
    if (missing.length) await this.ensureThenRetry(missing);
  }

  /**
   * The first calls of a period find no counters. They are created in a short tenant transaction of
   * their own (quota.ts ENSURE_COUNTERS, ON CONFLICT DO NOTHING), never inside a batch, whose counter
   * locks would then wait on another instance's insert; then the calls go in the next batch.
   */
  private async ensureThenRetry(missing: Pending[]): Promise<void> {
    const ready: Pending[] = [];
    for (const calls of groupBy(missing, (p) => `${p.tenant.orgId}/${p.tenant.userId}/${p.periods.day}`)) {
      const { tenant, periods } = calls[0]!;
      try {
        await retryTransient(() => tenantSql(this.database, tenant, (q) => ensureCounters(q, tenant, periods)));
      } catch (err) {
        for (const p of calls) p.reject(err);
        continue;
      }
      for (const p of calls) p.ensured = true;
      ready.push(...calls);
    }
    // Ahead of the calls that came after them, in their own arrival order.
    this.queue.unshift(...ready);
  }

  /**
   * A batch locks the counters of every tenant in it, so a counter row held elsewhere (an admin's
   * quota change, a stuck transaction) would hold up every tenant's calls: reserve_batch waits at most
   * its lock_timeout (migration 0012), then each organization's calls go in a batch of their own,
   * and an organization alone in its batch falls back to the one-call reservation, which waits for
   * its lock on a connection of its own as a call always did, leaving the batch slots to the others.
   */
  private async afterLockTimeout(batch: Pending[]): Promise<void> {
    const byOrg = groupBy(batch, (p) => p.tenant.orgId);
    if (byOrg.length > 1) {
      await Promise.all(byOrg.map((calls) => this.write(calls)));
      return;
    }
    // Not awaited: the calls wait on connections of their own, and the batch slot goes back to the others.
    for (const p of batch) reserve(this.database, p.tenant, p.periods, p.r).then(p.resolve, p.reject);
  }
}

/** One call as providers.reserve_batch reads it (jsonb_to_recordset). */
function item(p: Pending) {
  return {
    request_id: p.r.requestId, org_id: p.tenant.orgId, user_id: p.tenant.userId, day: p.periods.day, month: p.periods.month,
    tokens: p.r.tokens, cost: p.r.costMicros, ttl: p.r.ttlSeconds,
  };
}
