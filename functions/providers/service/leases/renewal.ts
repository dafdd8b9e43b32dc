import type { Database } from '../../../shared/db/index.js';
import { appRoleSql } from '../../../shared/db/round-trip.js';
import { outsideRequest } from '../../../shared/http/framework.js';
import type { CounterLease, LeasePolicy } from './allocator.js';

/**
 * Serve windows renewed ahead of time (refresh-ahead), one statement per instance for every tenant it
 * serves (providers.renew_leases, migration 0014). Without it each (instance, tenant) paid a full lease
 * statement every serve window, and the call that found the window over waited for it: 448 lease
 * statements for 1,600 calls with 25 organizations on four instances, the limits unchanged in all of them.
 *
 * A call served from memory in the second half of a counter's window queues that counter; the counters
 * queued in the same turn of the event loop go in one statement, sent at once (the call that queued them
 * is in flight, so the instance has CPU under request-based billing). The answer, per counter: its limits
 * as they are now and whether this holder's lease was renewed. Serving is extended only where nothing
 * changed (same limits, same lease), so exactness rests on the full lease statement as before:
 *   - renewing moves no allowance, it only keeps the lease from expiring under the calls it serves;
 *   - a changed limit ends the window at once: the next call takes the full lease statement, which
 *     resizes the lease under the counter lock (an admin's new limit binds within one serve window);
 *   - a counter with a lease statement in flight, or whose lease was not renewed (given back, expired,
 *     or locked by one of this holder's own statements: the function skips locked rows rather than wait),
 *     keeps its window: once it ends the next call takes the full statement, as it did before.
 */
const RENEW = 'select counter_id, token_limit, cost_limit_micros, lease_id from providers.renew_leases($1::text, $2::text[]::uuid[], $3::timestamptz, $4::timestamptz)';

export interface RenewRow {
  counter_id: string;
  token_limit: string | null;
  cost_limit_micros: string | null;
  lease_id: string | null;
}

export async function renewLeases(database: Database, holder: string, counterIds: string[], serveUntil: Date, expiresAt: Date): Promise<RenewRow[]> {
  return appRoleSql(database, (q) => q.query<RenewRow>(RENEW, [holder, counterIds, serveUntil, expiresAt], { last: true, prepare: 'llc_lease_renew_v1' }));
}

/** What a renewal answer does to one counter's memory (pure: unit-tested on its own). */
export function applyRenewal(s: CounterLease, row: RenewRow | undefined, serveUntil: number): void {
  if (!row || s.pending) return;
  const tokenLimit = row.token_limit === null ? null : Number(row.token_limit);
  const costLimit = row.cost_limit_micros === null ? null : Number(row.cost_limit_micros);
  if (tokenLimit !== s.tokenLimit || costLimit !== s.costLimit) {
    s.serveUntil = 0;
    return;
  }
  const same = s.leaseId !== null ? row.lease_id === s.leaseId : !s.limited;
  if (same) s.serveUntil = Math.max(s.serveUntil, serveUntil);
}

export class LeaseRenewal {
  private readonly queued = new Set<CounterLease>();
  private readonly sending = new Set<CounterLease>();
  private scheduled = false;

  constructor(
    private readonly database: Database,
    private readonly holder: string,
    private readonly policy: LeasePolicy,
    private readonly clock: () => number,
    private readonly track: (work: Promise<unknown>) => void,
    /** Every counter this instance tracks: those used within the last window go in each renewal. */
    private readonly counters: () => Iterable<CounterLease>,
  ) {}

  /** The counters a call was just served from, at `now`. */
  consider(states: CounterLease[], now: number): void {
    // At most half the window ahead: a renewal answers within the window it was asked in.
    const ahead = Math.min(this.policy.renewAheadMs, this.policy.serveMs / 2);
    if (ahead <= 0) return;
    for (const s of states) {
      if (!s.counterId || s.pending || now < s.serveUntil - ahead || this.queued.has(s) || this.sending.has(s)) continue;
      this.queued.add(s);
    }
    if (!this.queued.size || this.scheduled) return;
    this.scheduled = true;
    // The next turn: the calls of this turn join the statement. Outside the request's scope, as the settle batcher's timers.
    outsideRequest(() => setImmediate(() => this.track(this.send())));
  }

  private async send(): Promise<void> {
    this.scheduled = false;
    const sentAt = this.clock();
    // Every counter used within the last window rides along, whatever its window's position: after one
    // renewal the windows of all active tenants end together, so the next one renews them all at once
    // instead of one statement per tenant as their windows come due one by one.
    for (const s of this.counters()) {
      if (s.counterId && !s.pending && !this.sending.has(s) && sentAt - s.lastUsed < this.policy.serveMs) this.queued.add(s);
    }
    const batch = [...this.queued];
    this.queued.clear();
    for (const s of batch) this.sending.add(s);
    const serveUntil = sentAt + this.policy.serveMs;
    try {
      const rows = await renewLeases(this.database, this.holder, [...new Set(batch.map((s) => s.counterId))], new Date(serveUntil), new Date(serveUntil + this.policy.graceMs));
      const byCounter = new Map(rows.map((r) => [r.counter_id, r]));
      for (const s of batch) applyRenewal(s, byCounter.get(s.counterId), serveUntil);
    } catch (err) {
      throw new Error('quota lease renewal failed: each counter keeps its window, then the next call takes the full lease statement', { cause: err });
    } finally {
      for (const s of batch) this.sending.delete(s);
    }
  }
}
