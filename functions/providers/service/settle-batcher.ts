import type { Database } from '../../shared/db/index.js';
import { inFlightCount, onDrain } from '../../shared/http/drain.js';
import type { Logger } from '../../shared/http/index.js';
import { outsideRequest } from '../../shared/http/framework.js';
import { settleLeasedBatch, type LeasedSettleInput, type LeasedSettleResult } from './leases/settle.js';
import { finished, finishUnsure, leasedSettleInput } from './leases/settle-ticket.js';
import type { LeaseTicket } from './leases/ticket.js';
import { periodsAt, requestLogEventId, requestLogPayload, retryTransient, settleWithAlerts, type Settlement } from './quota.js';
import { appRoleSql, type SqlTenant } from '../../shared/db/round-trip.js';

/**
 * Group-commit settlement. The gateway answers first and hands the call's usage here; settles of all
 * tenants are written together, ONE transaction (one statement, providers.settle_batch in migration
 * 0010) per batch, every `maxWaitMs` or as soon as `maxBatch` calls wait, whichever comes first, with
 * at most `maxConcurrent` batches in flight (while they commit, the next batch fills: group commit).
 * Like LiteLLM's batched spend writes, but exact: each batch is keyed by request id inside the database
 * (a retried batch settles nothing twice), counters, usage_tracking and the request-log event of a call
 * commit together, and a batch that fails is retried, its calls alone on the last try, so one bad call
 * cannot keep the others unbilled.
 *
 * Durability (README "Billing durability"): a settle is durable once its batch committed; on SIGTERM
 * the instance flushes every queued settle before it exits (services.close, within Cloud Run's 10 s).
 * On SIGKILL at most the settles queued or in flight (≤ one flush interval plus one batch) are lost:
 * their reservations stay 'reserved', holding at least what the call used (the worst case), so the
 * limits are never overspent; the expiry job releases them and reports each one (request id, tenant,
 * reserved amounts) as an unbilled call.
 *
 * Calls served from quota leases reserve no row before they go upstream, so the batcher also writes
 * their journal (journal(): a 'leased' quota_reservations row per call, migration 0013) in the same
 * batch windows, while the upstream call runs: off the answer's path. An entry whose call settles in
 * the same batch is dropped (the settle inserts the row), so a call shorter than the window costs no
 * extra write. On SIGKILL a leased call is reported by the expiry job like a reserved one once its
 * journal entry or its settle's batch committed: what nothing reports is at most the leased calls of
 * the last window before the kill (served, or answered with their entry dropped, within maxWaitMs plus
 * one commit). Its allowance comes back with its expired lease either way: never an overspend.
 */
export interface SettleOutcome {
  /** This call's settle committed (false: already settled, no reservation, or given up after retries). */
  settled: boolean;
  /** The caller's org has enabled cost alerts that could fire now. */
  alerts: boolean;
}

export interface SettleBatcherOptions {
  database: Database;
  log: Logger;
  /** Flush as soon as this many settles wait. */
  maxBatch?: number;
  /** … or once the oldest waited this long. */
  maxWaitMs?: number;
  /**
   * How long a leased call's journal entry may wait for a batch (default maxWaitMs): on SIGKILL, the
   * calls served within this window (plus one commit) before the kill are the ones nothing reports.
   */
  journalWaitMs?: number;
  /** Batches committing at once; further settles wait and go in the next batch. */
  maxConcurrent?: number;
  /** Backoff between tries of a failed batch; after the last one the calls are logged unbilled. */
  retryDelaysMs?: number[];
  /**
   * Settles handed over and not yet committed (queued, in flight or waiting out a retry) from which on
   * `saturated` is true and the gateway holds new calls until there is room (before they reserve, so
   * JSON and streamed calls alike): the memory the batcher holds is bounded however slow the database
   * gets, and clients slow down instead.
   */
  maxPending?: number;
  /**
   * Whether other requests are in flight on this instance (default: the drain accounting, more than the
   * calling one). When none is, a partial batch goes at once: no call would join it soon, and with
   * Cloud Run's request-based billing the instance gets CPU only while requests are processed
   * (https://cloud.google.com/run/docs/configuring/billing-settings), so a timer firing after the last
   * answer could wait for the next request. Once the statement is sent, its commit needs none of our CPU.
   */
  busy?: () => boolean;
}

/** Background settle retries (short backoff); the last failure is logged with what the call used. */
export const SETTLE_RETRY_DELAYS_MS = [50, 250, 1_000, 3_000, 8_000];
export const SETTLE_MAX_BATCH = 256;
export const SETTLE_MAX_WAIT_MS = 5;
/** ≈ 1 KiB per waiting settle (its request-log payload included): at most a few MiB of an instance's 512. */
export const SETTLE_MAX_PENDING = 4_096;
/** Retry backoff once shutting down: the rest of Cloud Run's 10 s is all there is. */
const CLOSING_RETRY_MS = 100;

const CALL = 'select request_id, settled, alerts from providers.settle_batch($1::jsonb)';
const JOURNAL = 'select providers.journal_leased($1::jsonb) as written';

/** A leased call's journal entry (providers.journal_leased reads it with jsonb_to_recordset). */
interface JournalEntry {
  request_id: string;
  org_id: string;
  user_id: string;
  tokens: number;
  cost: number;
  counter_ids: string[];
  expires_at: string;
}

/** A window's journal entries: written with its leased settles or alone, exactly once (`handled`). */
interface WindowJournal {
  entries: JournalEntry[];
  handled: boolean;
}

const NO_JOURNAL: WindowJournal = { entries: [], handled: true };

interface Pending {
  tenant: SqlTenant;
  s: Settlement & { occurredAt: Date };
  /** Failed tries so far. */
  failures: number;
  resolve(outcome: SettleOutcome): void;
  /** The call's journal entry, not written because this settle went in the same batch: queued again if the batch fails. */
  journal?: JournalEntry;
  /** resolve() was called: the outcome is given, nothing more happens to this call. */
  answered?: boolean;
}

export class SettleBatcher {
  private readonly database: Database;
  private readonly log: Logger;
  private readonly maxBatch: number;
  private readonly maxConcurrent: number;
  private readonly retryDelaysMs: number[];
  private readonly busy: () => boolean;
  private queue: Pending[] = [];
  /** Journal entries of leased calls not sent yet, by request id (the call's settle takes its entry out). */
  private journals = new Map<string, JournalEntry>();
  private running = 0;
  /** When queued settles, and queued journal entries, may go in a partial batch. */
  private readonly settleWindow: Window;
  private readonly journalWindow: Window;
  /** Batches being written and retries waiting for their turn. */
  private readonly work = new Set<Promise<void>>();
  /** Retries sleeping out their backoff; close() wakes them. */
  private readonly sleepers = new Set<() => void>();
  private closing = false;
  private readonly maxPending: number;
  /** settle() calls not yet resolved. */
  private pending = 0;
  private roomWaiters: (() => void)[] = [];
  /** Batch statements committed and the calls they settled (benchmarks, diagnostics). */
  readonly stats = { batches: 0, calls: 0, journaled: 0 };

  constructor(options: SettleBatcherOptions) {
    this.database = options.database;
    this.log = options.log;
    this.maxBatch = Math.max(1, options.maxBatch ?? SETTLE_MAX_BATCH);
    const maxWaitMs = Math.max(0, options.maxWaitMs ?? SETTLE_MAX_WAIT_MS);
    this.settleWindow = new Window(maxWaitMs, () => this.kick());
    this.journalWindow = new Window(Math.max(0, options.journalWaitMs ?? maxWaitMs), () => this.kick());
    this.maxConcurrent = Math.max(1, options.maxConcurrent ?? 2);
    this.retryDelaysMs = options.retryDelaysMs ?? SETTLE_RETRY_DELAYS_MS;
    this.busy = options.busy ?? (() => inFlightCount() > 1);
    this.maxPending = Math.max(1, options.maxPending ?? SETTLE_MAX_PENDING);
  }

  /** As many settles wait as `maxPending`: new calls should wait for `room()` before they start (backpressure). */
  get saturated(): boolean {
    return this.pending >= this.maxPending;
  }

  /**
   * Resolves once fewer than `maxPending` settles wait (at once when they already do), one waiter per
   * settle that completes; or as soon as the instance starts draining (the caller then answers 503).
   */
  room(): Promise<void> {
    if (!this.saturated) return Promise.resolve();
    return new Promise((resolve) => {
      const off = onDrain(() => {
        this.roomWaiters = this.roomWaiters.filter((w) => w !== wake);
        resolve();
      });
      const wake = () => {
        off();
        resolve();
      };
      this.roomWaiters.push(wake);
    });
  }

  /** Queues the call's settle; resolves once it is committed (or given up and logged). Never rejects. */
  settle(tenant: SqlTenant, s: Settlement): Promise<SettleOutcome> {
    this.pending++;
    return new Promise<SettleOutcome>((resolve) => {
      const item: Pending = {
        tenant, s: { ...s, occurredAt: s.occurredAt ?? new Date() }, failures: 0,
        // Once: a path that answers a call twice (a bug) must not free its backpressure slot twice.
        resolve: (outcome) => {
          if (item.answered) return;
          item.answered = true;
          this.release(1);
          resolve(outcome);
        },
      };
      this.queue.push(item);
      if (!this.busy()) this.settleWindow.due = true;
      this.kick();
    });
  }

  /**
   * Queues the journal entry of a call just served from a quota lease (see the class comment): written
   * in the next batch window, while the call is upstream. `expiresAt`: when the expiry job may report
   * it lost (the lease's grace, as a reservation row's TTL). Fire and forget: a write that keeps failing
   * is logged with the request id, and the call is still billed by its settle.
   */
  journal(tenant: SqlTenant, ticket: LeaseTicket, expiresAt: Date): void {
    if (this.journals.has(ticket.requestId)) return;
    this.pending++;
    this.journals.set(ticket.requestId, {
      request_id: ticket.requestId, org_id: tenant.orgId, user_id: tenant.userId, tokens: ticket.want.tokens, cost: ticket.want.cost,
      counter_ids: [...new Set(ticket.parts.map((p) => p.counterId))], expires_at: expiresAt.toISOString(),
    });
    // No "idle → at once" here, unlike settle(): the call that journals is itself in flight, so the
    // instance has CPU for the timer (request-based billing), and a call that ends within the window
    // settles in the same batch, which makes its entry unnecessary.
    this.kick();
  }

  /** `n` queued items are done: one waiter per freed slot, so a commit lets one held call go, not the whole backlog. */
  private release(n: number): void {
    this.pending -= n;
    for (let i = 0; i < n && !this.saturated && this.roomWaiters.length; i++) this.roomWaiters.shift()!();
  }

  /** Writes everything queued now and waits for it, retries included (tests, shutdown). */
  async flush(): Promise<void> {
    for (;;) {
      this.settleWindow.due = true;
      this.journalWindow.due = true;
      this.kick();
      if (!this.queue.length && !this.journals.size && !this.work.size) return;
      await Promise.allSettled([...this.work]);
    }
  }

  /** Shutdown: settles from now on are written at once, retries stop waiting out long backoffs. */
  async close(): Promise<void> {
    this.closing = true;
    for (const wake of this.sleepers) wake();
    await this.flush();
  }

  /**
   * Starts batches while fewer than maxConcurrent are committing: a full batch at once, a partial one
   * only once due (its oldest call waited maxWaitMs, the instance has no other request in flight, or a
   * flush was asked for). Calls that arrive while the batches commit wait for the next one: group commit.
   */
  private kick(): void {
    while (this.running < this.maxConcurrent) {
      const settlesGo = this.queue.length >= this.maxBatch || (this.queue.length > 0 && (this.settleWindow.due || this.closing));
      const journalsGo = this.journals.size >= this.maxBatch || (this.journals.size > 0 && (this.journalWindow.due || this.closing));
      if (!settlesGo && !journalsGo) break;
      const batch = settlesGo ? this.queue.splice(0, this.maxBatch) : [];
      // Journal entries ride with every batch; those whose call settles in this very batch are not
      // needed (the settle writes the row), so a call shorter than the window costs no extra write.
      const journals = this.takeJournals(batch);
      this.running++;
      const journal: WindowJournal = { entries: journals, handled: false };
      this.hold(outsideRequest(() => this.write(batch, journal).catch((err: unknown) => {
        for (const p of batch) this.giveUp(p, err);
        return this.journalAlone(journal);
      })).finally(() => {
        this.running--;
        this.kick();
      }));
    }
    this.settleWindow.track(this.queue.length > 0);
    this.journalWindow.track(this.journals.size > 0);
  }

  /**
   * Leased calls whose settle did not commit are journaled after all, in the next window, whatever
   * becomes of the settle's retries: if the instance dies meanwhile, the expiry job reports them (an
   * entry written after its settle committed changes nothing).
   */
  private journalAgain(batch: Pending[]): void {
    let requeued = 0;
    for (const p of batch) {
      if (!p.journal || this.journals.has(p.s.requestId)) continue;
      this.journals.set(p.s.requestId, p.journal);
      p.journal = undefined;
      requeued++;
    }
    if (!requeued) return;
    this.pending += requeued;
    this.kick();
  }

  private takeJournals(batch: Pending[]): JournalEntry[] {
    if (!this.journals.size) return [];
    let dropped = 0;
    for (const p of batch) {
      const entry = p.s.lease ? this.journals.get(p.s.requestId) : undefined;
      if (!entry) continue;
      this.journals.delete(p.s.requestId);
      p.journal = entry;
      dropped++;
    }
    this.release(dropped);
    const entries = [...this.journals.values()].slice(0, this.maxBatch);
    for (const e of entries) this.journals.delete(e.request_id);
    return entries;
  }

  /** A window's journal entries on their own (no leased settle to ride with, or it failed), once. */
  private async journalAlone(journal: WindowJournal): Promise<void> {
    if (journal.handled || !journal.entries.length) return;
    journal.handled = true;
    await this.writeJournal(journal.entries, 0);
  }

  /** One statement for the entries of every tenant; retried like a settle batch, then logged (the settle still bills the call). */
  private async writeJournal(entries: JournalEntry[], failures: number): Promise<void> {
    try {
      await appRoleSql(this.database, (q) => q.query(JOURNAL, [JSON.stringify(entries)], { last: true, prepare: 'llc_lease_journal_v1' }));
      this.stats.journaled += entries.length;
      this.release(entries.length);
      return;
    } catch (err) {
      if (failures >= this.retryDelaysMs.length || refusesData(err)) {
        if (refusesData(err) && entries.length > 1) {
          await Promise.all(entries.map((e) => this.writeJournal([e], failures)));
          return;
        }
        this.log.error('leased call not journaled: if this instance dies before its settle, nothing reports it', {
          error: err, gatewayRequestIds: entries.slice(0, 20).map((e) => e.request_id), calls: entries.length,
        });
        this.release(entries.length);
        return;
      }
      this.log.warn('leased call journal failed, retrying in the background', { error: err, calls: entries.length });
      this.hold(this.sleep(this.closing ? CLOSING_RETRY_MS : this.retryDelaysMs[failures]!).then(() => this.writeJournal(entries, failures + 1)));
    }
  }

  private hold(work: Promise<void>): void {
    this.work.add(work);
    void work.finally(() => this.work.delete(work));
  }

  /**
   * A batch of settles, and the journal entries of its window: those go in the leased settles' transaction
   * when the batch has leased calls (providers.settle_leased_window, one commit for both), else alone.
   */
  private async write(batch: Pending[], journal: WindowJournal = NO_JOURNAL): Promise<void> {
    // A call served from quota leases has no reservation row for settle_batch to find: the batch's leased
    // calls go in a statement of their own (providers.settle_leased_batch), side by side, same retries.
    const leased = batch.filter((p) => p.s.lease);
    const plain = leased.length ? batch.filter((p) => !p.s.lease) : batch;
    await Promise.all([
      ...(plain.length ? [this.writeBatch(plain)] : []),
      leased.length ? this.writeLeased(leased, journal) : this.journalAlone(journal),
    ]);
  }

  /**
   * Leased settles: ONE statement for the calls of every tenant in the batch (leases/settle.ts
   * settleLeasedBatch). A batch that fails goes call by call, each with the usual retries, so one call
   * the database refuses cannot keep the others unbilled.
   */
  private async writeLeased(batch: Pending[], journal: WindowJournal = NO_JOURNAL): Promise<void> {
    // A request id twice in one statement would be settled once and answered settled for both: a second
    // one (a bug upstream of here) goes alone after the batch and finds the call settled.
    const seen = new Set<string>();
    const calls = batch.filter((p) => !seen.has(p.s.requestId) && !!seen.add(p.s.requestId));
    if (calls.length < batch.length) {
      await this.writeLeased(calls, journal);
      await Promise.all(batch.filter((p) => !calls.includes(p)).map((p) => this.writeOne(p)));
      return;
    }
    // A call whose input cannot be built (a value the request log cannot hold) is given up alone; the
    // others of the batch go on.
    const built: { p: Pending; tenant: SqlTenant; input: LeasedSettleInput }[] = [];
    for (const p of calls) {
      try {
        built.push({ p, tenant: p.tenant, input: leasedSettleInput(p.s, p.s.lease!, p.s.promptTokens + p.s.completionTokens, p.s.occurredAt, requestLogPayload(p.s, p.s.occurredAt)) });
      } catch (err) {
        this.giveUp(p, err);
      }
    }
    if (built.length < calls.length) {
      await (built.length ? this.writeLeased(built.map((b) => b.p), journal) : this.journalAlone(journal));
      return;
    }
    const inputs = built;
    let results: Map<string, LeasedSettleResult>;
    const journals = journal.handled ? [] : journal.entries;
    // Claimed while the statement runs: nothing else may write (and release) these entries meanwhile.
    if (journals.length) journal.handled = true;
    try {
      results = await retryTransient(() => settleLeasedBatch(this.database, inputs, journals));
    } catch (err) {
      // Each on its own path now: the journal with its retries, the settles call by call.
      this.log.warn('leased settle batch failed, settling its calls one by one', { error: err, calls: calls.length, journaled: journals.length });
      if (journals.length) journal.handled = false;
      await Promise.all([this.journalAlone(journal), ...calls.map((p) => this.writeOne(p))]);
      return;
    }
    this.stats.batches++;
    this.stats.calls += calls.length;
    if (journals.length) {
      this.stats.journaled += journals.length;
      this.release(journals.length);
    }
    calls.forEach((p, i) => {
      const result = results.get(p.s.requestId) ?? { settled: false, alerts: false, consumed: new Map() };
      p.resolve(finished(p.s.lease!, inputs[i]!.input, result));
    });
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    let rows: { request_id: string; settled: boolean; alerts: boolean }[];
    try {
      const items = JSON.stringify(batch.map(item));
      rows = await retryTransient(() => appRoleSql(this.database, (q) =>
        q.query<{ request_id: string; settled: boolean; alerts: boolean }>(CALL, [items], { last: true, prepare: 'llc_quota_settle_batch_v1' }),
      ));
    } catch (err) {
      if (refusesData(err) && batch.length > 1) {
        // One call's value fails the whole statement, every time: each call goes alone now, not after the retries.
        this.log.warn('settle batch refused a value, settling its calls one by one', { error: err, calls: batch.length });
        await Promise.all(batch.map((p) => this.write([p])));
        return;
      }
      this.failed(batch, err);
      return;
    }
    this.stats.batches++;
    this.stats.calls += batch.length;
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    for (const p of batch) {
      const row = byId.get(p.s.requestId);
      p.resolve({ settled: row?.settled === true, alerts: row?.alerts === true });
    }
  }

  private async writeOne(p: Pending): Promise<void> {
    try {
      p.resolve(await settleWithAlerts(this.database, p.tenant, p.s));
    } catch (err) {
      this.failed([p], err);
    }
  }

  /** A lost connection, a failover: the batch is idempotent by request id, so it is simply tried again. */
  private failed(batch: Pending[], err: unknown): void {
    const failures = batch[0]!.failures + 1;
    for (const p of batch) p.failures = failures;
    this.journalAgain(batch);
    if (failures > this.retryDelaysMs.length || (batch.length === 1 && refusesData(err))) {
      for (const p of batch) this.giveUp(p, err);
      return;
    }
    this.log.warn('settle failed, retrying in the background', {
      error: err, calls: batch.length, gatewayRequestIds: batch.slice(0, 10).map((p) => p.s.requestId),
    });
    const delay = this.closing ? CLOSING_RETRY_MS : this.retryDelaysMs[failures - 1]!;
    const last = failures === this.retryDelaysMs.length;
    this.hold(this.sleep(delay).then(async () => {
      // The last try settles each call alone: a call the database refuses cannot keep the others unbilled.
      if (last && batch.length > 1) await Promise.all(batch.map((p) => this.write([p])));
      else await this.write(batch);
    }).catch((err: unknown) => {
      // Not a database answer (those are handled inside write): the calls are given up, logged, not lost silently.
      for (const p of batch) this.giveUp(p, err);
    }));
  }

  private giveUp(p: Pending, err: unknown): void {
    if (p.answered) return;
    const { s, tenant } = p;
    // The reservation stays 'reserved' until the expiry job releases (and reports) it: this line is what is left to bill from.
    this.log.error('settle failed: call not billed', {
      error: err, gatewayRequestId: s.requestId, orgId: tenant.orgId, userId: tenant.userId, provider: s.provider, model: s.model,
      // Not "…tokens" keys: the logger redacts those by name.
      usage: { prompt: s.promptTokens, completion: s.completionTokens, costMicros: s.costMicros }, status: s.status,
    });
    if (s.lease) finishUnsure(s.lease, s);
    this.journalAgain([p]);
    p.resolve({ settled: false, alerts: false });
  }

  private sleep(ms: number): Promise<void> {
    if (this.closing) ms = Math.min(ms, CLOSING_RETRY_MS);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}

/** When a queue's partial batch may go: once its oldest item waited `waitMs`, or as soon as `due` is set. */
class Window {
  due = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly waitMs: number, private readonly onDue: () => void) {}

  /** While items wait, a timer runs (outside any request's scope); once none does, timer and `due` reset. */
  track(waiting: boolean): void {
    if (!waiting) {
      this.due = false;
      clearTimeout(this.timer);
      this.timer = undefined;
    } else if (!this.timer && !this.due) {
      this.timer = outsideRequest(() => setTimeout(() => {
        this.timer = undefined;
        this.due = true;
        this.onDue();
      }, this.waitMs));
    }
  }
}

/** One call as providers.settle_batch reads it (jsonb_to_recordset); org and user are checked against the reservation. */
function item(p: Pending) {
  const { s, tenant } = p;
  return {
    request_id: s.requestId, org_id: tenant.orgId, user_id: tenant.userId, provider: s.provider, model: s.model,
    day: periodsAt(s.occurredAt).day, prompt_tokens: s.promptTokens, completion_tokens: s.completionTokens, cost_micros: s.costMicros,
    event_id: requestLogEventId(s.requestId), occurred_at: s.occurredAt.toISOString(), payload: requestLogPayload(s, s.occurredAt),
  };
}

/**
 * SQLSTATE classes 22 (data exception: a number out of bigint's range, an invalid value) and 23 (integrity
 * constraint violation: a CHECK) refuse the data itself (PostgreSQL Appendix A, Error Codes): trying the
 * same statement again fails the same way, unlike a lost connection, a deadlock or a failover.
 */
export function refusesData(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^2[23]/.test(code);
}
