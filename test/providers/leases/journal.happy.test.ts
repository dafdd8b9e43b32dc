import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { QuotaLeases, type LeaseTicket } from '../../../functions/providers/service/leases/index.js';
import { reserveForCall } from '../../../functions/providers/service/leases/reserve.js';
import { releaseExpiredReservations } from '../../../functions/providers/service/maintenance.js';
import { periodsAt, type Settlement } from '../../../functions/providers/service/quota.js';
import { SettleBatcher } from '../../../functions/providers/service/settle-batcher.js';
import { createLogger, setLogSink } from '../../../functions/shared/http/logger.js';
import { createTestDatabase } from '../../support/db.js';
import { setLimits } from '../../support/gateway.js';
import { createTenant } from '../../support/tenants.js';
import { recordingDatabase } from '../../support/recording-db.js';

/**
 * The journal of leased calls (settle-batcher.ts journal(), migration 0013): a call served from a quota
 * lease reserves no row before it goes upstream, so its 'leased' row, written in the batcher's next
 * window, is what the expiry job reports it by if the instance dies before the settle. An entry whose
 * call settles in the same batch is not written (the settle inserts the row); an entry written after
 * its settle changes nothing; a late settle still bills a call the expiry job already reported.
 */
const { database } = await createTestDatabase();
const LIMIT = 1_000_000;
const periods = periodsAt(new Date());

async function setup(options: { journalWaitMs?: number; maxWaitMs?: number } = {}) {
  const t = await createTenant(database, { role: 'member' });
  const tenant = { orgId: t.orgId, userId: t.userId };
  await setLimits(database, t.orgId, t.userId, { daily_token_limit: LIMIT });
  const quotaLeases = new QuotaLeases(database, { holder: `journal-test-${randomUUID()}` });
  const settles = new SettleBatcher({ database, log: createLogger(), busy: () => true, maxWaitMs: options.maxWaitMs ?? 60_000, journalWaitMs: options.journalWaitMs ?? 60_000 });
  const serve = async (tokens = 100) => {
    const requestId = randomUUID();
    const { lease } = await reserveForCall({ database, quotaLeases, settles }, tenant, periods, { requestId, tokens, costMicros: 0, ttlSeconds: 600 });
    return lease!;
  };
  return { t, tenant, quotaLeases, settles, serve };
}

const settlement = (ticket: LeaseTicket, tokens: number): Settlement => ({
  requestId: ticket.requestId, provider: 'openai', model: 'gpt-4o-mini', promptTokens: tokens, completionTokens: 0,
  costMicros: 0, latencyMs: 1, status: 200, stream: false, keySource: 'platform', lease: ticket,
});

/** Settles now: the batchers here never go by time, so the settle is queued and the queue flushed. */
async function settleNow(settles: SettleBatcher, tenant: { orgId: string; userId: string }, s: Settlement) {
  const outcome = settles.settle(tenant, s);
  await settles.flush();
  return outcome;
}

async function row(requestId: string) {
  const { rows } = await database.pool!.query(
    `SELECT state, tokens_reserved::int AS reserved, tokens_used::int AS used, expires_at FROM providers.quota_reservations WHERE request_id = $1`, [requestId]);
  return rows[0] as { state: string; reserved: number; used: number; expires_at: Date } | undefined;
}

async function userCounter(userId: string) {
  const { rows } = await database.pool!.query(
    `SELECT tokens_used::int AS used, tokens_reserved::int AS reserved, tokens_leased::int AS leased FROM providers.quota_counters WHERE subject_type = 'user' AND subject_id = $1 AND period = 'daily'`, [userId]);
  return rows[0] as { used: number; reserved: number; leased: number };
}

describe('the journal of leased calls', () => {
  it('a served call gets its leased row in the next window, holding its worst case for the report only; its settle turns it settled', async () => {
    const { t, tenant, quotaLeases, settles, serve } = await setup({ journalWaitMs: 1 });
    const ticket = await serve(100);
    await settles.flush();
    const journaled = await row(ticket.requestId);
    expect(journaled).toMatchObject({ state: 'leased', reserved: 100, used: 0 });
    // Expires with the lease's grace, as a reservation row with the reservation TTL.
    expect(journaled!.expires_at.getTime()).toBe(ticket.takenAt + quotaLeases.policy.graceMs);
    // The journal row reserves nothing on the counter: the allowance is in the lease.
    expect(await userCounter(t.userId)).toMatchObject({ reserved: 0, used: 0 });
    expect(await settleNow(settles, tenant, settlement(ticket, 40))).toEqual({ settled: true, alerts: false });
    expect(await row(ticket.requestId)).toMatchObject({ state: 'settled', used: 40 });
    expect(await userCounter(t.userId)).toMatchObject({ used: 40, reserved: 0 });
    expect(settles.stats.journaled).toBe(1);
    await quotaLeases.returnAll();
    expect((await userCounter(t.userId)).leased).toBe(0);
  });

  it('an entry whose call settles in the same batch is not written: a call shorter than the window costs no extra write', async () => {
    const { tenant, quotaLeases, settles, serve } = await setup();
    const tickets = await Promise.all([serve(), serve(), serve()]);
    const outcomes = tickets.slice(0, 2).map((ticket) => settles.settle(tenant, settlement(ticket, 10)));
    await settles.flush();
    expect(await Promise.all(outcomes)).toEqual(Array(2).fill({ settled: true, alerts: false }));
    // The third call is still upstream: its entry went; the first two settled in the same batch.
    expect(settles.stats.journaled).toBe(1);
    expect(await Promise.all(tickets.map((ticket) => row(ticket.requestId).then((r) => r?.state)))).toEqual(['settled', 'settled', 'leased']);
    await settleNow(settles, tenant, settlement(tickets[2]!, 10));
    await quotaLeases.returnAll();
  });

  it("a window's journal entries and its leased settles commit in one transaction (settle_leased_window): one statement where there were two", async () => {
    const t = await createTenant(database, { role: 'member' });
    const tenant = { orgId: t.orgId, userId: t.userId };
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: LIMIT });
    const rec = recordingDatabase(database);
    const quotaLeases = new QuotaLeases(database, { holder: `journal-test-${randomUUID()}` });
    const settles = new SettleBatcher({ database: rec.database, log: createLogger(), busy: () => true, maxWaitMs: 60_000, journalWaitMs: 60_000 });
    const serve = async () => (await reserveForCall({ database, quotaLeases, settles }, tenant, periods, { requestId: randomUUID(), tokens: 100, costMicros: 0, ttlSeconds: 600 })).lease!;
    const tickets = await Promise.all([serve(), serve(), serve(), serve()]);
    const outcomes = tickets.slice(0, 2).map((ticket) => settles.settle(tenant, settlement(ticket, 10)));
    await settles.flush();
    expect(await Promise.all(outcomes)).toEqual(Array(2).fill({ settled: true, alerts: false }));
    expect(rec.count('llc_lease_settle_window_v1')).toBe(1);
    expect(rec.count('llc_lease_journal_v1') + rec.count('llc_lease_settle_batch_v1')).toBe(0);
    expect(settles.stats.journaled).toBe(2);
    expect(await Promise.all(tickets.map((ticket) => row(ticket.requestId).then((r) => r?.state)))).toEqual(['settled', 'settled', 'leased', 'leased']);
    expect(await userCounter(t.userId)).toMatchObject({ used: 20, reserved: 0 });
    // A window with entries and no leased settle writes them alone, as before.
    await Promise.all(tickets.slice(2).map((ticket) => settleNow(settles, tenant, settlement(ticket, 10))));
    const fifth = await serve();
    await settles.flush();
    expect(rec.count('llc_lease_journal_v1')).toBe(1);
    expect((await row(fifth.requestId))?.state).toBe('leased');
    await settleNow(settles, tenant, settlement(fifth, 10));
    expect(await userCounter(t.userId)).toMatchObject({ used: 50, reserved: 0 });
    await quotaLeases.returnAll();
  });

  it('an entry written after its settle committed changes nothing (the call stays settled, billed once)', async () => {
    const { t, tenant, quotaLeases, serve } = await setup();
    const ticket = await serve(100);
    // The settle goes through a batcher of its own; the serving batcher's entry is written afterwards.
    const other = new SettleBatcher({ database, log: createLogger(), busy: () => false });
    expect(await other.settle(tenant, settlement(ticket, 30))).toMatchObject({ settled: true });
    const late = new SettleBatcher({ database, log: createLogger(), busy: () => false });
    late.journal(tenant, ticket, new Date(Date.now() + 60_000));
    await late.flush();
    expect(await row(ticket.requestId)).toMatchObject({ state: 'settled', used: 30 });
    expect((await userCounter(t.userId)).used).toBe(30);
    await quotaLeases.returnAll();
  });

  it('the expiry job reports a leased call whose settle never came, by request id, and moves no counter; a late settle still bills it once', async () => {
    const { t, tenant, quotaLeases, settles, serve } = await setup({ journalWaitMs: 1 });
    const ticket = await serve(100);
    await settles.flush();
    const before = await userCounter(t.userId);
    await database.pool!.query(`UPDATE providers.quota_reservations SET expires_at = now() - interval '1 second' WHERE request_id = $1`, [ticket.requestId]);
    const lines: Record<string, unknown>[] = [];
    const previous = setLogSink((line) => lines.push(JSON.parse(line)));
    let released: { released: number };
    try {
      released = await releaseExpiredReservations(database, createLogger({ function: 'jobs' }));
    } finally {
      setLogSink(previous);
    }
    expect(released.released).toBeGreaterThanOrEqual(1);
    expect(lines.find((l) => l.gatewayRequestId === ticket.requestId)).toMatchObject({
      severity: 'WARNING', message: 'reservation expired unsettled: call not billed', orgId: t.orgId, userId: t.userId, from: 'quota lease', reserved: { tok: 100 },
    });
    expect(await row(ticket.requestId)).toMatchObject({ state: 'released' });
    expect(await userCounter(t.userId), 'the allowance is in the lease, not on the counter').toEqual(before);
    // The instance was only slow: its settle still bills the call, once.
    expect(await settleNow(settles, tenant, settlement(ticket, 60))).toEqual({ settled: true, alerts: false });
    expect(await row(ticket.requestId)).toMatchObject({ state: 'settled', used: 60 });
    expect(await settleNow(settles, tenant, settlement(ticket, 60))).toEqual({ settled: false, alerts: false });
    expect((await userCounter(t.userId)).used).toBe(60);
    await quotaLeases.returnAll();
    expect(await userCounter(t.userId)).toMatchObject({ used: 60, leased: 0 });
  });
});

describe('a request id twice in one batch', () => {
  it('is settled once: the first answers settled, the second finds it settled (a bug upstream must not bill or report twice)', async () => {
    const { t, tenant, quotaLeases, settles, serve } = await setup();
    const ticket = await serve(100);
    const first = settles.settle(tenant, settlement(ticket, 30));
    const second = settles.settle(tenant, settlement(ticket, 30));
    await settles.flush();
    expect(await Promise.all([first, second])).toEqual([{ settled: true, alerts: false }, { settled: false, alerts: false }]);
    expect((await userCounter(t.userId)).used).toBe(30);
    await quotaLeases.returnAll();
  });
});
