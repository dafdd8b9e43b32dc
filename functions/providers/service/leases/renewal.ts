import type { Database } from '../../../shared/db/index.js';
import { appRoleSql } from '../../../shared/db/round-trip.js';
import { outsideRequest } from '../../../shared/http/framework.js';
import { sliceTarget, unusedAfter, type CounterLease, type LeasePolicy } from './allocator.js';

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
const RENEW = 'select counter_id, token_limit, cost_limit_micros, lease_id, room_t, room_c from providers.renew_leases($1::text, $2::text[]::uuid[], $3::timestamptz, $4::timestamptz)';

export interface RenewRow {
  counter_id: string;
  token_limit: string | null;
  cost_limit_micros: string | null;
  lease_id: string | null;
  /** limit − used − reserved − the other holders' leases, as the statement read it (null: no limit). */
  room_t: string | null;
  room_c: string | null;
}

export async function renewLeases(database: Database, holder: string, counterIds: string[], serveUntil: Date, expiresAt: Date): Promise<RenewRow[]> {
  return appRoleSql(database, (q) => q.query<RenewRow>(RENEW, [holder, counterIds, serveUntil, expiresAt], { last: true, prepare: 'llc_lease_renew_v1' }));
}

/**
 * A lease holding more than this many times what the full lease statement would let it keep unused
 * now is not renewed: its window ends and that statement gives the excess back. The slack keeps a
 * lease whose demand jitters from losing its renewals; a burst's slice still comes back within a window.
 */
export const OVERSIZED = 1.5;

/** Why a counter's window was or was not extended (tests, and the retry rule in LeaseRenewal). */
export type RenewalOutcome = 'extended' | 'limit-changed' | 'not-renewed' | 'oversized' | 'stale';

/** Whether what `s` holds unused is within OVERSIZED × what a full statement would keep, per limited dimension. */
function fits(unused: number, room: string | null, inflight: number, rate: number, seen: boolean, policy: LeasePolicy): boolean {
  if (room === null) return true;
  const target = sliceTarget(0, rate, policy, seen);
  const keep = unusedAfter(Number(room) - inflight, 0, target, unused, policy.share);
  return unused <= Math.ceil(keep * OVERSIZED);
}

/**
 * What a renewal answer does to one counter's memory (pure: unit-tested on its own). `generation` is the
 * counter's when the renewal was sent: an answer older than a lease statement or give-back applied
 * since says nothing about the lease memory holds now.
 */
export function applyRenewal(s: CounterLease, row: RenewRow | undefined, serveUntil: number, now: number, policy: LeasePolicy, generation = s.generation): RenewalOutcome {
  if (!row || s.pending || s.generation !== generation) return 'stale';
  const tokenLimit = row.token_limit === null ? null : Number(row.token_limit);
  const costLimit = row.cost_limit_micros === null ? null : Number(row.cost_limit_micros);
  if (tokenLimit !== s.tokenLimit || costLimit !== s.costLimit) {
    s.serveUntil = 0;
    return 'limit-changed';
  }
  const same = s.leaseId !== null ? row.lease_id === s.leaseId : !s.limited;
  if (!same) return 'not-renewed';
  if (s.leaseId !== null) {
    const tokens = fits(s.held.tokens - s.inflight.tokens, s.tokenLimit === null ? null : row.room_t, s.inflight.tokens, s.demand.tokens.perMs(now), s.demand.tokens.seen, policy);
    const cost = fits(s.held.cost - s.inflight.cost, s.costLimit === null ? null : row.room_c, s.inflight.cost, s.demand.cost.perMs(now), s.demand.cost.seen, policy);
    if (!tokens || !cost) return 'oversized';
  }
  s.serveUntil = Math.max(s.serveUntil, serveUntil);
  return 'extended';
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
      if (!s.counterId || s.pending || now < s.serveUntil - ahead || now < s.renewAfter || this.queued.has(s) || this.sending.has(s)) continue;
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
    const generations = batch.map((s) => s.generation);
    for (const s of batch) this.sending.add(s);
    const serveUntil = sentAt + this.policy.serveMs;
    // A counter not extended is not queued again at once: each call in the window's second half would
    // otherwise send a statement of its own. A lease row skipped because locked (most often by this
    // instance's own settle batch) is tried again a little later; an oversized lease, or one the
    // statement could not renew at all, waits for the full lease statement at the window's end.
    const retryAt = sentAt + Math.max(1, Math.min(this.policy.renewAheadMs, this.policy.serveMs / 2) / 4);
    try {
      const rows = await renewLeases(this.database, this.holder, [...new Set(batch.map((s) => s.counterId))], new Date(serveUntil), new Date(serveUntil + this.policy.graceMs));
      const byCounter = new Map(rows.map((r) => [r.counter_id, r]));
      const now = this.clock();
      batch.forEach((s, i) => {
        const outcome = applyRenewal(s, byCounter.get(s.counterId), serveUntil, now, this.policy, generations[i]);
        if (outcome === 'not-renewed') s.renewAfter = retryAt;
        else if (outcome === 'oversized') s.renewAfter = s.serveUntil;
      });
    } catch (err) {
      for (const s of batch) s.renewAfter = retryAt;
      throw new LeaseRenewalError(err);
    } finally {
      for (const s of batch) this.sending.delete(s);
    }
  }
}

/** A renewal statement failed: nothing is lost, each counter's window just runs out as before renewals. */
export class LeaseRenewalError extends Error {
  constructor(cause: unknown) {
    super('quota lease renewal failed: each counter keeps its window, then the next call takes the full lease statement', { cause });
    this.name = 'LeaseRenewalError';
  }
}
