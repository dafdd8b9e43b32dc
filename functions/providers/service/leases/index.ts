import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Database } from '../../../shared/db/index.js';
import { ensureCounters, refusal, retryTransient, type Periods, type Reservation } from '../quota.js';
import type { SqlTenant } from '../../../shared/db/round-trip.js';
import { tenantSql } from '../../../shared/db/round-trip.js';
import { CounterLease, DEFAULT_LEASE_POLICY, ZERO, type Amount, type LeasePolicy } from './allocator.js';
import { abandonTicket, type LeaseTicket } from './ticket.js';
import { acquireLeases, COUNTER_ORDER, giveBack, type LeaseRow } from './store.js';
import { LeaseRenewal } from './renewal.js';

/**
 * Quota leases for one gateway instance (design: allocator.ts; SQL: store.ts, settle.ts).
 *
 * reserve() serves a call from memory when the four counters' leases cover its worst case, else asks
 * PostgreSQL for a slice (one statement for the four counters, in one round trip) and serves it from
 * that, else answers 429 naming the limit. The ticket it returns goes with the settle (Settlement.lease),
 * which takes what the call consumed from the leases it came from. Unused allowance goes back when a
 * lease idles (idleMs), when its period is over (the period's counters stop being used, so they idle),
 * and at SIGTERM (returnAll, from the providers function's shutdown hook). A killed instance gives
 * nothing back: its leases expire (serve window + grace) and the jobs function reclaims them.
 */
export interface QuotaLeasesOptions {
  policy?: Partial<LeasePolicy>;
  /** Milliseconds since the epoch (tests inject a clock). */
  clock?: () => number;
  holder?: string;
  /** The Cloud Run revision (config K_REVISION), part of the default holder id. */
  revision?: string | undefined;
  /** Background work (idle returns), kept visible for shutdown and tests. */
  track?: (work: Promise<unknown>) => void;
}

const keyOf = (i: number, tenant: SqlTenant, periods: Periods) => {
  const c = COUNTER_ORDER[i]!;
  return `${c.subject}:${c.subject === 'user' ? tenant.userId : tenant.orgId}:${c.period}:${c.period === 'daily' ? periods.day : periods.month}`;
};

export class QuotaLeases {
  readonly holder: string;
  readonly policy: LeasePolicy;
  private readonly clock: () => number;
  private readonly counters = new Map<string, CounterLease>();
  /** Tickets served and maybe not yet settled (pruned by the sweep). */
  private readonly open = new Set<LeaseTicket>();
  /** The tenant to run a counter's statements as (RLS): the org is what matters, any of its users will do. */
  private readonly tenants = new Map<string, SqlTenant>();
  private lastSweep = 0;
  private readonly track: (work: Promise<unknown>) => void;
  private readonly renewal: LeaseRenewal;

  constructor(private readonly database: Database, options: QuotaLeasesOptions = {}) {
    this.policy = { ...DEFAULT_LEASE_POLICY, ...options.policy };
    this.clock = options.clock ?? Date.now;
    this.holder = options.holder ?? `${options.revision ?? 'local'}/${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
    this.track = options.track ?? ((w) => void w.catch(() => {}));
    this.renewal = new LeaseRenewal(database, this.holder, this.policy, this.clock, this.track, () => this.counters.values());
  }

  async reserve(tenant: SqlTenant, periods: Periods, r: Reservation): Promise<LeaseTicket> {
    const want: Amount = { tokens: r.tokens, cost: r.costMicros };
    const keys = COUNTER_ORDER.map((_, i) => keyOf(i, tenant, periods));
    this.maybeSweep();
    for (let round = 0; ; round++) {
      const now = this.clock();
      const states = keys.map((k) => this.counters.get(k));
      if (states.every((s): s is CounterLease => !!s && s.covers(want, now))) {
        const ticket = this.ticket(r.requestId, want, states, now);
        this.renewal.consider(states, now);
        return ticket;
      }
      const pending = states.flatMap((s) => (s?.pending ? [s.pending] : []));
      if (pending.length) {
        await Promise.allSettled(pending);
        continue;
      }
      const { rows, refused, ticket } = await this.acquire(tenant, periods, keys, r.requestId, want);
      if (ticket) return ticket;
      // The database refused (the room left is smaller than the call): 429 naming the limit. What this
      // instance still holds unused on that counter is too small for the call, so it goes back first:
      // other holders' fragments would otherwise add up to a call's worth that nobody can serve until
      // they idle. Each refusal returns its holder's fragment, so after at most holders − 1 refusals
      // the room left is in one place again and a call that fits is served.
      if (refused) {
        const key = this.keyByCounter.get(refused.counter_id);
        await this.giveBackWhere((s) => s.key === key).catch(() => {});
        throw this.refuse(refused, want, periods);
      }
      // Granted, yet not covered (another holder statement on a shared counter answered in between):
      // ask again, a bounded number of times.
      if (round >= 3) throw this.refuse(rows.find((row) => row.lease_id) ?? rows[0]!, want, periods);
    }
  }

  private ticket(requestId: string, want: Amount, states: CounterLease[], now: number): LeaseTicket {
    for (const s of states) s.take(want, now);
    const ticket: LeaseTicket = { requestId, want, parts: states.map((s) => ({ state: s, counterId: s.counterId, leaseId: s.leaseId })), done: false, takenAt: now };
    this.open.add(ticket);
    return ticket;
  }

  /** Gives back every lease's unused allowance now (SIGTERM; in-flight calls keep theirs). */
  async returnAll(): Promise<void> {
    await this.giveBackWhere(() => true);
  }

  /** Gives back leases unused for idleMs (and those of past periods, which idle by themselves). */
  async returnIdle(): Promise<void> {
    const now = this.clock();
    await this.giveBackWhere((s) => now - s.lastUsed >= this.policy.idleMs);
  }

  /** Amounts this instance holds and has in flight (tests, metrics). */
  snapshot(): { key: string; counterId: string; leaseId: string | null; held: Amount; inflight: Amount }[] {
    return [...this.counters.values()].map((s) => ({ key: s.key, counterId: s.counterId, leaseId: s.leaseId, held: { ...s.held }, inflight: { ...s.inflight } }));
  }

  private maybeSweep(): void {
    const now = this.clock();
    if (this.lastSweep === 0) this.lastSweep = now;
    if (now - this.lastSweep < this.policy.idleMs / 2) return;
    this.lastSweep = now;
    this.dropStale(now);
    this.track(this.returnIdle());
  }

  /**
   * A call that never reached its settle (a bug, an exception between reserve and answer) would hold its
   * worst case in memory for ever; after graceMs (the reservation TTL, when the expiry job would release a
   * reservation row) its hold ends, as a row's would.
   */
  private dropStale(now: number): void {
    for (const t of this.open) {
      if (!t.done && now - t.takenAt > this.policy.graceMs) abandonTicket(t);
      // An abandoned ticket leaves the set too; its call still holds it, and its settle, if it comes, moves memory.
      if (t.done || t.released) this.open.delete(t);
    }
  }

  private readonly keyByCounter = new Map<string, string>();

  /** One lease statement for the call's four counters; `refused` is the first counter whose room was too small. */
  private async acquire(tenant: SqlTenant, periods: Periods, keys: string[], requestId: string, want: Amount): Promise<{ rows: LeaseRow[]; refused?: LeaseRow; ticket?: LeaseTicket }> {
    const now = this.clock();
    const states = keys.map((k) => {
      let s = this.counters.get(k);
      if (!s) this.counters.set(k, (s = new CounterLease('', k, this.policy)));
      return s;
    });
    const asks = states.map((s) => {
      // A counter never read yet: ask as if limited; the statement ignores dimensions without a limit.
      const { need, target } = s.counterId ? s.ask(want, this.policy, now) : { need: want, target: { tokens: want.tokens * this.policy.firstCalls, cost: want.cost * this.policy.firstCalls } };
      return { need, target, inflight: { ...s.inflight } };
    });
    const work = (async () => {
      let rows = await this.acquireOnce(tenant, periods, asks, now);
      if (rows.length < 4) {
        // The counters that exist were leased all the same: their deltas are applied before the second
        // statement's, or memory would stop mirroring the database.
        for (const row of rows) this.apply(states[row.idx - 1]!, row, tenant, now);
        await retryTransient(() => tenantSql(this.database, tenant, (q) => ensureCounters(q, tenant, periods)));
        rows = await this.acquireOnce(tenant, periods, asks, now);
      }
      return rows;
    })();
    for (const s of states) s.pending = work;
    try {
      const rows = await work;
      for (const row of rows) this.apply(states[row.idx - 1]!, row, tenant, now);
      for (const s of states) if (s.pending === work) s.pending = null;
      // Judged on what the statement granted against what it was told was in flight, before any other
      // call of this instance can take from it.
      const refused = rows.find((row) => {
        const a = asks[row.idx - 1]!;
        const t = row.token_limit !== null && Number(row.held_t ?? 0) - a.inflight.tokens < want.tokens;
        const c = row.cost_limit_micros !== null && Number(row.held_c ?? 0) - a.inflight.cost < want.cost;
        return t || c;
      });
      // The call that asked is served first, in the same tick: others waiting on this statement cannot take its share.
      if (!refused && rows.length === 4 && states.every((s) => s.covers(want, now))) return { rows, ticket: this.ticket(requestId, want, states, now) };
      return { rows, refused };
    } finally {
      for (const s of states) if (s.pending === work) s.pending = null;
    }
  }

  private acquireOnce(tenant: SqlTenant, periods: Periods, asks: { need: Amount; target: Amount; inflight: Amount }[], now: number) {
    return retryTransient(() => acquireLeases(this.database, tenant, {
      holder: this.holder, periods, asks, share: this.policy.share,
      serveUntil: new Date(now + this.policy.serveMs), expiresAt: new Date(now + this.policy.serveMs + this.policy.graceMs),
    }));
  }

  private apply(s: CounterLease, row: LeaseRow, tenant: SqlTenant, now: number): void {
    s.generation++;
    s.renewAfter = 0;
    s.counterId = row.counter_id;
    this.keyByCounter.set(row.counter_id, s.key);
    this.tenants.set(s.key, tenant);
    s.tokenLimit = row.token_limit === null ? null : Number(row.token_limit);
    s.costLimit = row.cost_limit_micros === null ? null : Number(row.cost_limit_micros);
    s.serveUntil = now + this.policy.serveMs;
    s.lastUsed = Math.max(s.lastUsed, now);
    if (row.lease_id) {
      const held = { tokens: Number(row.held_t), cost: Number(row.held_c) };
      // Deltas commute with concurrent settles' deltas; a new lease row (first grant, or the old one was
      // reclaimed) starts from its absolute holding.
      s.held = s.leaseId === row.lease_id
        ? { tokens: s.held.tokens + Number(row.delta_t), cost: s.held.cost + Number(row.delta_c) }
        : held;
      s.leaseId = row.lease_id;
    } else if (s.leaseId) {
      // The limit was removed: nothing to lease any more; what the old lease holds goes back.
      const leaseId = s.leaseId;
      s.leaseId = null;
      s.held = { ...ZERO };
      // Nothing is served from this counter until the row is gone: a limit set again meanwhile would
      // otherwise lease into the very row this is emptying.
      const work = giveBack(this.database, tenant, [{ leaseId, keep: ZERO }]);
      s.pending = work.finally(() => {
        if (s.pending === guard) s.pending = null;
      });
      const guard = s.pending;
      this.track(work);
    }
  }

  private refuse(row: LeaseRow, want: Amount, periods: Periods) {
    const s = this.counters.get(this.keyByCounter.get(row.counter_id) ?? '');
    const mine = s ? { tokens: s.held.tokens - s.inflight.tokens, cost: s.held.cost - s.inflight.cost } : ZERO;
    const subject = COUNTER_ORDER[row.idx - 1]!;
    // "In flight" for the client: reservations plus every holder's leases except the part this instance could still use.
    return refusal({
      subject_type: subject.subject, period: subject.period,
      token_limit: row.token_limit, cost_limit_micros: row.cost_limit_micros,
      tokens_used: row.tokens_used, cost_used_micros: row.cost_used_micros,
      tokens_reserved: String(Number(row.tokens_reserved) + Number(row.tokens_leased) - Math.max(0, mine.tokens)),
      cost_reserved_micros: String(Number(row.cost_reserved_micros) + Number(row.cost_leased_micros) - Math.max(0, mine.cost)),
    }, { tokens: want.tokens, costMicros: want.cost }, periods);
  }

  private forget(s: CounterLease): void {
    this.counters.delete(s.key);
    this.keyByCounter.delete(s.counterId);
    this.tenants.delete(s.key);
  }

  private async giveBackWhere(pick: (s: CounterLease) => boolean): Promise<void> {
    const byOrg = new Map<string, { tenant: SqlTenant; states: CounterLease[] }>();
    for (const s of [...this.counters.values()]) {
      if (s.pending || !pick(s)) continue;
      if (!s.leaseId) {
        // Nothing leased (no limit): just forget an idle counter.
        if (s.inflight.tokens === 0 && s.inflight.cost === 0 && this.clock() - s.lastUsed >= this.policy.idleMs) this.forget(s);
        continue;
      }
      const tenant = this.tenants.get(s.key);
      if (!tenant) continue;
      const entry = byOrg.get(tenant.orgId) ?? { tenant, states: [] };
      entry.states.push(s);
      byOrg.set(tenant.orgId, entry);
    }
    await Promise.all([...byOrg.values()].map(async ({ tenant, states }) => {
      const work = giveBack(this.database, tenant, states.map((s) => ({ leaseId: s.leaseId!, keep: { ...s.inflight } })));
      for (const s of states) s.pending = work;
      try {
        const rows = await work;
        for (const s of states) {
          s.generation++;
          const row = rows.find((r) => r.lease_id === s.leaseId);
          if (row) s.held = { tokens: s.held.tokens - Number(row.back_t), cost: s.held.cost - Number(row.back_c) };
          // Nothing in flight: the row is gone, the next call asks afresh.
          if (!row || (s.inflight.tokens === 0 && s.inflight.cost === 0)) {
            if (s.inflight.tokens === 0 && s.inflight.cost === 0) {
              s.leaseId = null;
              s.held = { ...ZERO };
            }
            s.serveUntil = 0;
          }
          if (s.inflight.tokens === 0 && s.inflight.cost === 0 && this.clock() - s.lastUsed >= this.policy.idleMs) {
            this.forget(s);
          }
        }
      } finally {
        for (const s of states) if (s.pending === work) s.pending = null;
      }
    }));
  }
}

export { reclaimExpiredLeases } from './store.js';
export { LeaseRenewalError } from './renewal.js';
export { abandonTicket, finishTicket, type LeaseTicket } from './ticket.js';
export { DEFAULT_LEASE_POLICY, type Amount, type LeasePolicy } from './allocator.js';
