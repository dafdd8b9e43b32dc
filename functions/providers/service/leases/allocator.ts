/**
 * Quota leases, the in-memory half (DESIGN, read with store.ts and index.ts):
 *
 * Each gateway instance holds, per limited quota counter (subject × period), an allowance leased from
 * PostgreSQL (providers.quota_leases; the counter's tokens_leased/cost_leased_micros is the sum of its
 * leases). Reservations are served from memory while the allowance lasts; the database is asked again
 * only when it runs short, when the serve window ends (a few seconds: an admin's new limit is read then),
 * or to give back what is unused. Doorman-style leased capacity and Envoy's rate-limit service are the
 * model for the speed; unlike them nothing here is approximate:
 *
 *   counter.used + counter.reserved + Σ leases.held ≤ limit   (every grant is one conditional UPDATE)
 *   Σ in-flight worst cases served from a lease ≤ lease.held  (checked here, synchronously)
 *
 * so granted work never passes a limit, whatever the number of instances. This module is pure (no I/O,
 * injected clock) so the sizing rules are unit-tested on their own.
 */

/** The sizing knobs; defaults in DEFAULT_LEASE_POLICY. */
export interface LeasePolicy {
  /** How long a lease serves new reservations before it must be renewed (limit changes take effect within this). */
  serveMs: number;
  /** How long past the serve window a killed holder's allowance stays set aside (the longest a call may run). */
  graceMs: number;
  /** A slice covers this many serve windows of recent demand. */
  windows: number;
  /** With no demand seen yet, a slice covers this many calls of the size asked for. */
  firstCalls: number;
  /** Near a limit a slice is at most this share of what remains (but always the call that asked, if it fits). */
  share: number;
  /** Demand is an exponentially weighted rate with this half-life. */
  halfLifeMs: number;
  /** A lease unused this long is given back. */
  idleMs: number;
  /**
   * A counter served from this close to the end of its window is renewed in the background (renewal.ts),
   * so calls do not wait for the window to end; 0: only the full lease statement renews.
   */
  renewAheadMs: number;
}

export const DEFAULT_LEASE_POLICY: LeasePolicy = {
  serveMs: 2_000,
  graceMs: 15 * 60_000,
  windows: 2,
  firstCalls: 4,
  share: 0.25,
  halfLifeMs: 5_000,
  idleMs: 10_000,
  renewAheadMs: 1_000,
};

/**
 * What a holder may hold unused after a lease statement, given `room` (the limit minus everyone else's
 * use, reservations and leases, minus this holder's calls in flight), `need` (what the waiting call
 * lacks) and `target` (what recent demand asks for). The SQL in store.ts computes exactly this
 * (store.pg.test checks both agree):
 *   room ≥ need → least(target, greatest(need, ⌊room·share⌋), room)   slices shrink as the room does
 *   room < need → greatest(least(room, unused), 0)                     refused; keep what still fits
 */
export function unusedAfter(room: number, need: number, target: number, unused: number, share: number): number {
  if (room >= need) return Math.min(Math.max(target, need), Math.max(need, Math.floor(room * share)), room);
  return Math.max(Math.min(room, unused), 0);
}

/** The slice a holder asks for: enough for `windows` serve windows of recent demand, at least the call waiting. */
export function sliceTarget(need: number, ratePerMs: number, policy: LeasePolicy, seenDemand: boolean): number {
  const fromDemand = Math.ceil(ratePerMs * policy.serveMs * policy.windows);
  return Math.max(need, seenDemand ? fromDemand : need * policy.firstCalls);
}

/** An exponentially weighted rate (per ms) of what was reserved. */
export class DemandRate {
  private rate = 0;
  private at: number | undefined;
  constructor(private readonly halfLifeMs: number) {}

  private added = false;

  get seen(): boolean {
    return this.added;
  }

  add(amount: number, now: number): void {
    this.added = true;
    this.decay(now);
    // The amount is spread over one half-life: a steady stream converges to its true rate.
    this.rate += (amount * Math.LN2) / this.halfLifeMs;
  }

  perMs(now: number): number {
    this.decay(now);
    return this.rate;
  }

  private decay(now: number): void {
    if (this.at !== undefined && now > this.at) this.rate *= Math.pow(0.5, (now - this.at) / this.halfLifeMs);
    this.at = Math.max(now, this.at ?? now);
  }
}

/** Tokens and micro-dollars together: every amount here is one of these. */
export interface Amount {
  tokens: number;
  cost: number;
}

export const ZERO: Amount = { tokens: 0, cost: 0 };

/**
 * One limited counter as this instance sees it. `held` mirrors quota_leases.*_held and changes only by
 * the deltas the database reported (lease statements and settles commute, so their answers may arrive
 * in any order); `inflight` is the worst case of the calls served and not yet settled.
 */
export class CounterLease {
  leaseId: string | null = null;
  held: Amount = { ...ZERO };
  inflight: Amount = { ...ZERO };
  /** New reservations are served only before this (ms, injected clock). */
  serveUntil = 0;
  lastUsed = 0;
  tokenLimit: number | null = null;
  costLimit: number | null = null;
  /** A lease statement for this counter is in flight: nothing is served until it answers. */
  pending: Promise<unknown> | null = null;
  /**
   * Bumped by every lease statement and give-back applied: a renewal answer sent before one of them
   * (renewal.ts) says nothing about the lease memory holds now, and is dropped.
   */
  generation = 0;
  /** No renewal is queued for this counter before this (ms): set when one was not granted. */
  renewAfter = 0;
  readonly demand: { tokens: DemandRate; cost: DemandRate };

  constructor(
    public counterId: string,
    readonly key: string,
    policy: LeasePolicy,
  ) {
    this.demand = { tokens: new DemandRate(policy.halfLifeMs), cost: new DemandRate(policy.halfLifeMs) };
  }

  get limited(): boolean {
    return this.tokenLimit !== null || this.costLimit !== null;
  }

  /** What this call lacks (per limited dimension; 0 where there is no limit). */
  lacks(want: Amount): Amount {
    return {
      tokens: this.tokenLimit === null ? 0 : Math.max(0, want.tokens - (this.held.tokens - this.inflight.tokens)),
      cost: this.costLimit === null ? 0 : Math.max(0, want.cost - (this.held.cost - this.inflight.cost)),
    };
  }

  /** Whether `want` can be served now, from memory. */
  covers(want: Amount, now: number): boolean {
    if (this.pending || now >= this.serveUntil) return false;
    const lack = this.lacks(want);
    return lack.tokens === 0 && lack.cost === 0;
  }

  take(want: Amount, now: number): void {
    this.inflight = add(this.inflight, want);
    this.lastUsed = now;
    this.demand.tokens.add(want.tokens, now);
    this.demand.cost.add(want.cost, now);
  }

  /** The call ended; `consumed` is what its settle took from the lease (0 if it never settled). */
  finish(want: Amount, consumed: Amount): void {
    this.inflight = { tokens: Math.max(0, this.inflight.tokens - want.tokens), cost: Math.max(0, this.inflight.cost - want.cost) };
    this.held = { tokens: Math.max(0, this.held.tokens - consumed.tokens), cost: Math.max(0, this.held.cost - consumed.cost) };
  }

  /**
   * What to ask the database for so that `want` fits: `need` is the unused allowance the call requires
   * (room is counted on top of what is in flight, as in the SQL), `target` what recent demand asks for.
   */
  ask(want: Amount, policy: LeasePolicy, now: number): { need: Amount; target: Amount } {
    const need = { tokens: this.tokenLimit === null ? 0 : want.tokens, cost: this.costLimit === null ? 0 : want.cost };
    return {
      need,
      target: {
        tokens: this.tokenLimit === null ? 0 : sliceTarget(need.tokens, this.demand.tokens.perMs(now), policy, this.demand.tokens.seen),
        cost: this.costLimit === null ? 0 : sliceTarget(need.cost, this.demand.cost.perMs(now), policy, this.demand.cost.seen),
      },
    };
  }
}

export const add = (a: Amount, b: Amount): Amount => ({ tokens: a.tokens + b.tokens, cost: a.cost + b.cost });
