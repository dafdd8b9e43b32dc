import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { periodsAt, reserve, type Settlement } from '../../functions/providers/service/quota.js';
import { SettleBatcher } from '../../functions/providers/service/settle-batcher.js';
import { createLogger, setLogSink } from '../../functions/shared/http/logger.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant, type TestTenant } from '../support/tenants.js';

/**
 * The settle batcher's contract (settle-batcher.ts): a batch goes when maxBatch calls wait or once the
 * oldest waited maxWaitMs, never a partial one before; flush() and close() write what waits; a call the
 * database refuses is retried and then tried alone (at once when the refusal is about the data, SQLSTATE
 * class 22/23), so it cannot keep the others of its batch unbilled, and it alone is logged ERROR with its usage.
 */
const { database } = await createTestDatabase();

type Tenant = Pick<TestTenant, 'orgId' | 'userId'>;

async function call(t: Tenant, used: number, costMicros = used): Promise<Settlement> {
  const requestId = randomUUID();
  await reserve(database, t, periodsAt(new Date()), { requestId, tokens: 1_000, costMicros: 1_000, ttlSeconds: 600 });
  return { requestId, provider: 'openai', model: 'gpt-4o-mini', promptTokens: used, completionTokens: 0, costMicros, latencyMs: 1, status: 200, stream: false, keySource: 'platform' };
}

async function states(ids: string[]) {
  const { rows } = await database.pool!.query<{ request_id: string; state: string }>(`SELECT request_id, state FROM providers.quota_reservations WHERE request_id = ANY($1)`, [ids]);
  return ids.map((id) => rows.find((r) => r.request_id === id)?.state);
}

const used = async (t: Tenant) => Number((await database.pool!.query(`SELECT tokens_used FROM providers.quota_counters WHERE subject_type = 'user' AND subject_id = $1 AND period = 'daily'`, [t.userId])).rows[0].tokens_used);

describe('settle batches', () => {
  it('a full batch goes at once; the rest waits for its time or a flush', async () => {
    const t = await createTenant(database, { role: 'member' });
    const batcher = new SettleBatcher({ database, log: createLogger(), maxBatch: 4, maxWaitMs: 60_000, busy: () => true });
    const calls = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => call(t, n)));
    const outcomes = calls.map((s) => batcher.settle(t, s));
    expect(await Promise.all(outcomes.slice(0, 4))).toEqual(Array(4).fill({ settled: true, alerts: false }));
    // Two calls wait for a batch of their own: nothing of theirs is written before it goes.
    expect(await states(calls.map((s) => s.requestId))).toEqual(['settled', 'settled', 'settled', 'settled', 'reserved', 'reserved']);
    expect(await used(t)).toBe(10);
    await batcher.flush();
    expect(await Promise.all(outcomes.slice(4))).toEqual(Array(2).fill({ settled: true, alerts: false }));
    expect(await used(t)).toBe(21);
  });

  it('a lone call goes after maxWaitMs without any flush', async () => {
    const t = await createTenant(database, { role: 'member' });
    const batcher = new SettleBatcher({ database, log: createLogger(), maxBatch: 100, maxWaitMs: 1, busy: () => true });
    expect(await batcher.settle(t, await call(t, 7))).toEqual({ settled: true, alerts: false });
    expect(await used(t)).toBe(7);
  });

  it('with no other request in flight, a partial batch goes at once (request-based CPU may stop after this answer)', async () => {
    const t = await createTenant(database, { role: 'member' });
    let others = 2;
    const batcher = new SettleBatcher({ database, log: createLogger(), maxBatch: 100, maxWaitMs: 60_000, busy: () => others > 0 });
    const calls = await Promise.all([1, 2, 3].map((n) => call(t, n)));
    const first = [batcher.settle(t, calls[0]!), batcher.settle(t, calls[1]!)];
    expect(await states(calls.slice(0, 2).map((s) => s.requestId))).toEqual(['reserved', 'reserved']);
    others = 0; // the last request of the instance: its settle takes the waiting ones along
    expect(await batcher.settle(t, calls[2]!)).toMatchObject({ settled: true });
    expect(await Promise.all(first)).toEqual(Array(2).fill({ settled: true, alerts: false }));
    expect(batcher.stats).toEqual({ batches: 1, calls: 3, journaled: 0 });
  });

  it('close() writes what waits and sends later calls at once', async () => {
    const t = await createTenant(database, { role: 'member' });
    const batcher = new SettleBatcher({ database, log: createLogger(), maxBatch: 100, maxWaitMs: 60_000, busy: () => true });
    const waiting = batcher.settle(t, await call(t, 3));
    await batcher.close();
    expect(await waiting).toMatchObject({ settled: true });
    expect(await batcher.settle(t, await call(t, 4))).toMatchObject({ settled: true });
    expect(await used(t)).toBe(7);
  });

  it('a call the database refuses is retried, then tried alone: the others are billed, it alone is logged unbilled', async () => {
    const t = await createTenant(database, { role: 'member' });
    const lines: any[] = [];
    const previous = setLogSink((line) => lines.push(JSON.parse(line)));
    try {
      const batcher = new SettleBatcher({ database, log: createLogger(), maxBatch: 4, maxWaitMs: 60_000, retryDelaysMs: [1, 1], busy: () => true });
      const good = await Promise.all([5, 6, 7].map((n) => call(t, n)));
      // A negative cost breaks the reservation's CHECK: the whole statement fails, every time.
      const bad = await call(t, 9, -1);
      const outcomes = await Promise.all([...good, bad].map((s) => batcher.settle(t, s)));
      expect(outcomes.map((o) => o.settled)).toEqual([true, true, true, false]);
      expect(await states([...good, bad].map((s) => s.requestId))).toEqual(['settled', 'settled', 'settled', 'reserved']);
      expect(await used(t)).toBe(18);
      const errors = lines.filter((l) => l.severity === 'ERROR');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ message: 'settle failed: call not billed', gatewayRequestId: bad.requestId, usage: { prompt: 9, completion: 0, costMicros: -1 } });
      // A CHECK violation (SQLSTATE class 23) cannot pass on a retry: the batch is split at once, not retried.
      expect(lines.filter((l) => l.message === 'settle failed, retrying in the background')).toHaveLength(0);
    } finally {
      setLogSink(previous);
    }
  });

  it('a usage number beyond bigint (class 22) splits a cross-tenant batch at once: the other tenant is billed without waiting for retries', async () => {
    const [a, b] = [await createTenant(database, { role: 'member' }), await createTenant(database, { role: 'member' })];
    // Retries 60 s apart: only a batch split at once lets this test finish.
    const batcher = new SettleBatcher({ database, log: createLogger(), maxBatch: 2, maxWaitMs: 60_000, retryDelaysMs: [60_000], busy: () => true });
    const good = await call(a, 5);
    const huge = { ...(await call(b, 1)), promptTokens: 1e19 };
    const outcomes = await Promise.all([batcher.settle(a, good), batcher.settle(b, huge)]);
    expect(outcomes.map((o) => o.settled)).toEqual([true, false]);
    expect(await used(a)).toBe(5);
    expect(await states([huge.requestId])).toEqual(['reserved']);
  }, 10_000);
  it('saturated once maxPending settles wait (new gateway calls wait for room() before they reserve), room again once they commit', async () => {
    const t = await createTenant(database, { role: 'member' });
    const batcher = new SettleBatcher({ database, log: createLogger(), maxBatch: 100, maxWaitMs: 60_000, maxPending: 2, busy: () => true });
    const calls = await Promise.all([1, 2].map((n) => call(t, n)));
    const first = batcher.settle(t, calls[0]!);
    expect(batcher.saturated).toBe(false);
    const second = batcher.settle(t, calls[1]!);
    expect(batcher.saturated).toBe(true);
    let room = false;
    const waiting = batcher.room().then(() => (room = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(room).toBe(false);
    await batcher.flush();
    await waiting;
    expect(await Promise.all([first, second])).toEqual(Array(2).fill({ settled: true, alerts: false }));
    expect(batcher.saturated).toBe(false);
  });
  it('one held call goes per settle that completes (not the whole backlog), and a drain lets every held call go (the gateway then answers 503)', async () => {
    const t = await createTenant(database, { role: 'member' });
    const batcher = new SettleBatcher({ database, log: createLogger(), maxBatch: 1, maxWaitMs: 600_000, maxPending: 2, busy: () => true });
    const calls = await Promise.all([1, 2, 3].map((n) => call(t, n)));
    // maxBatch 1: the first two settles go at once (two batches in flight), the third waits.
    const settles = calls.map((s) => batcher.settle(t, s));
    let woken = 0;
    const waiters = [0, 1, 2].map(() => batcher.room().then(() => void woken++));
    await Promise.all(settles.slice(0, 2));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(woken).toBe(2);
    const { drain, resetDrain } = await import('../../functions/shared/http/drain.js');
    try {
      await drain(0);
      await Promise.all(waiters);
      expect(woken).toBe(3);
    } finally {
      resetDrain();
    }
    await batcher.flush();
    await Promise.all(settles);
  });

  it('one leased call whose request log cannot be built is given up alone: the others of its batch are billed, each answered once (found by review)', async () => {
    const t = await createTenant(database, { role: 'member' });
    const plain = await call(t, 5);
    const ticket = (id: string) => ({ requestId: id, want: { tokens: 10, cost: 10 }, parts: [], done: false, takenAt: 0 });
    const good = { ...(await call(t, 5)), requestId: randomUUID() };
    const bad = { ...(await call(t, 5)), requestId: randomUUID() };
    const batcher = new SettleBatcher({ database, log: createLogger(), maxBatch: 3, maxWaitMs: 60_000, busy: () => true, retryDelaysMs: [] });
    const outcomes = await Promise.all([
      batcher.settle(t, plain),
      batcher.settle(t, { ...good, lease: ticket(good.requestId) } as Settlement),
      batcher.settle(t, { ...bad, lease: ticket(bad.requestId), occurredAt: new Date(Number.NaN) } as Settlement),
    ]);
    await batcher.flush();
    expect(outcomes).toEqual([{ settled: true, alerts: false }, { settled: true, alerts: false }, { settled: false, alerts: false }]);
    expect(await states([plain.requestId, good.requestId])).toEqual(['settled', 'settled']);
    expect(batcher.saturated).toBe(false);
    expect((batcher as unknown as { pending: number }).pending).toBe(0);
  });
});
