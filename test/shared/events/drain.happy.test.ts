import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { withSystem } from '../../../functions/shared/db/tenant.js';
import { backoffSeconds, claimBatch, drainOutbox, replayParked } from '../../../functions/shared/events/drain.js';
import { writeOutbox } from '../../../functions/shared/events/outbox.js';
import type { EventSink, SendResult, SinkEvent } from '../../../functions/shared/events/port.js';
import { postgresEventSink } from '../../../functions/shared/events/postgres.js';
import { rowsOf } from '../../../functions/shared/db/rows.js';
import { createTestDatabase } from '../../support/db.js';

const { database } = await createTestDatabase();

/** A sink whose answer per event the test scripts. */
function scriptedSink(answer: (e: SinkEvent) => 'ok' | 'transient' | 'permanent'): EventSink & { seen: string[] } {
  const seen: string[] = [];
  return {
    kind: 'postgres',
    seen,
    async send(events): Promise<SendResult> {
      const result: SendResult = { delivered: [], failed: [] };
      for (const e of events) {
        seen.push(e.eventId);
        const a = answer(e);
        if (a === 'ok') result.delivered.push(e.eventId);
        else result.failed.push({ eventId: e.eventId, error: `scripted ${a}`, permanent: a === 'permanent' });
      }
      return result;
    },
    requestLogTotals: async () => [],
  };
}

const emit = (n: number, payload: Record<string, unknown> = {}) =>
  withSystem(database, (tx) => writeOutbox(tx, Array.from({ length: n }, () => ({ stream: 'domain_events' as const, payload: { type: 'test.event', marker: randomUUID(), ...payload } }))));

const row = async (eventId: string) =>
  rowsOf(await database.db.execute(sql`select attempts, parked_at, delivered_at, last_error, (extract(epoch from next_attempt_at) * 1000)::float8 as next_ms, (extract(epoch from delivered_at) * 1000)::float8 as delivered_ms from ops.outbox where event_id = ${eventId}`))[0]!;

const clearDue = () => database.db.execute(sql`update ops.outbox set delivered_at = coalesce(delivered_at, now()), parked_at = null where delivered_at is null`);

describe('drainOutbox', () => {
  it('backs off 2^attempts seconds, capped at one hour (on an injected clock)', async () => {
    await clearDue();
    expect([1, 2, 3, 10, 11, 12, 40].map(backoffSeconds)).toEqual([2, 4, 8, 1024, 2048, 3600, 3600]);
    const [id] = await emit(1);
    // A fixed instant after the emit: due times are computed from it, never from how long the test took.
    const t0 = Date.parse('2099-01-01T00:00:00Z');
    const at = (seconds: number) => () => new Date(t0 + seconds * 1000);
    const sink = scriptedSink(() => 'transient');
    const stats = await drainOutbox(database, sink, { maxAttempts: 5, now: at(0) });
    expect(stats).toMatchObject({ claimed: 1, failed: 1, parked: 0, delivered: 0 });
    const first = await row(id!);
    expect(first).toMatchObject({ attempts: 1, parked_at: null, delivered_at: null, last_error: 'scripted transient' });
    expect(first.next_ms).toBe(t0 + 2_000);
    // Not due a moment before: another run does not touch it; due exactly at t0 + 2 s.
    expect((await drainOutbox(database, sink, { now: at(1.999) })).claimed).toBe(0);
    expect((await drainOutbox(database, sink, { maxAttempts: 5, now: at(2) })).claimed).toBe(1);
    const second = await row(id!);
    expect(second.attempts).toBe(2);
    expect(second.next_ms).toBe(t0 + 2_000 + 4_000);
    // Delivery is stamped with the same clock.
    expect(await drainOutbox(database, scriptedSink(() => 'ok'), { now: at(6) })).toMatchObject({ delivered: 1 });
    expect((await row(id!)).delivered_ms).toBe(t0 + 6_000);
  });

  it('parks a permanently failing event at once and a transient one after maxAttempts; replay delivers them', async () => {
    await clearDue();
    const [poison] = await emit(1);
    const [flaky] = await emit(1);
    const failing = scriptedSink((e) => (e.eventId === poison ? 'permanent' : 'transient'));
    for (let i = 0; i < 3; i++) {
      await drainOutbox(database, failing, { maxAttempts: 3 });
      await database.db.execute(sql`update ops.outbox set next_attempt_at = now() where delivered_at is null and parked_at is null`);
    }
    expect((await row(poison!)).attempts).toBe(1);
    expect((await row(poison!)).parked_at).not.toBeNull();
    expect((await row(flaky!)).attempts).toBe(3);
    expect((await row(flaky!)).parked_at).not.toBeNull();
    // Parked events are visible to operators in the backlog view.
    const backlog = rowsOf(await database.db.execute(sql`select parked::int from ops.outbox_backlog where stream = 'domain_events'`));
    expect(backlog[0]!.parked).toBe(2);

    expect(await replayParked(database, [poison!])).toBe(1);
    expect(await replayParked(database)).toBe(1);
    const healthy = scriptedSink(() => 'ok');
    expect(await drainOutbox(database, healthy)).toMatchObject({ delivered: 2, failed: 0 });
    expect((await row(poison!)).delivered_at).not.toBeNull();
  });

  it('a claim is leased: nobody else takes it until the lease runs out', async () => {
    await clearDue();
    const ids = await emit(3);
    const mine = await claimBatch(database, 'w1', 10, 60);
    expect(mine.map((e) => e.eventId).sort()).toEqual([...ids].sort());
    expect(await claimBatch(database, 'w2', 10, 60)).toHaveLength(0);
    await database.db.execute(sql`update ops.outbox set locked_until = now() - interval '1 second' where locked_by = 'w1' and delivered_at is null`);
    expect(await claimBatch(database, 'w2', 10, 60)).toHaveLength(3);
    const holders = rowsOf(await database.db.execute(sql`select distinct locked_by from ops.outbox where delivered_at is null`));
    expect(holders).toEqual([{ locked_by: 'w2' }]);
  });

  it('parallel drainers on separate connections claim disjoint batches', async () => {
    await clearDue();
    const ids = await emit(400);
    const claims = await Promise.all(Array.from({ length: 4 }, (_, i) => claimBatch(database, `p${i}`, 100, 60)));
    const claimed = claims.flat().map((e) => e.eventId);
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed.length).toBe(400);
    expect(new Set(claimed)).toEqual(new Set(ids));
  });

  it('drains into the embedded analytics tables end to end', async () => {
    await clearDue();
    const ids = await emit(5, { provider_id: 'openai' });
    const stats = await drainOutbox(database, postgresEventSink(database), { batchSize: 2 });
    expect(stats).toMatchObject({ batches: 3, delivered: 5 });
    const stored = rowsOf(await database.db.execute(sql`select event_id::text from analytics.audit_events where action = 'test.event'`)).map((r) => r.event_id);
    expect(stored).toEqual(expect.arrayContaining(ids));
  });
});

describe('writeOutbox', () => {
  it('works as the application role (INSERT only) and ignores a repeated event id', async () => {
    const { withTenant } = await import('../../../functions/shared/db/tenant.js');
    const { createTenant } = await import('../../support/tenants.js');
    const tenant = await createTenant(database);
    const eventId = randomUUID();
    for (let i = 0; i < 2; i++) {
      await withTenant(database, tenant, (tx) => writeOutbox(tx, { stream: 'domain_events', eventId, orgId: tenant.orgId, payload: { type: 'test.once', i } }));
    }
    const rows = rowsOf(await database.db.execute(sql`select payload from ops.outbox where event_id = ${eventId}`));
    expect(rows).toEqual([{ payload: { type: 'test.once', i: 0 } }]);
  });
});
