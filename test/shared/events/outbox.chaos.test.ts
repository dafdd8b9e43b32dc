process.env.METADATA_SERVER_DETECTION ??= 'none';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, expect, it } from 'vitest';
import { withSystem } from '../../../functions/shared/db/tenant.js';
import { bigQueryEventSink } from '../../../functions/shared/events/bigquery.js';
import { drainOutbox } from '../../../functions/shared/events/drain.js';
import { writeOutbox, type OutboxEvent } from '../../../functions/shared/events/outbox.js';
import { rowsOf } from '../../../functions/shared/db/rows.js';
import { startBigQueryFake } from '../../fakes/bigquery.js';
import { createTestDatabase } from '../../support/db.js';

const { database, url } = await createTestDatabase({ poolMax: 16 });
const fake = await startBigQueryFake();
afterAll(() => fake.close());

const TOTAL = 10_000;
const PRODUCERS = 4;
const PER_TX = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const count = async (where: string) => Number(rowsOf(await database.db.execute(sql.raw(`select count(*)::int as n from ops.outbox where ${where}`)))[0]!.n);

it('10,000 events, 20% of batches failing, two drainers, one killed mid-batch: all delivered once after dedup', { timeout: 90_000 }, async () => {
  fake.failEvery(5); // every 5th insertAll answers 503
  fake.latencyMs = 150; // a wide window to be killed in

  const doomed = spawn(process.execPath, ['--import', 'tsx', 'test/support/drain-worker.ts'], {
    env: { ...process.env, DATABASE_URL: url, BQ_URL: fake.url, BQ_PROJECT: fake.projectId, WORKER_ID: 'doomed', LEASE_SECONDS: '3' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => doomed.on('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    doomed.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    doomed.on('exit', () => reject(new Error('drain worker died before it was ready')));
  });

  // Producers: business transactions that each append 100 events.
  const written: string[] = [];
  const producers = Array.from({ length: PRODUCERS }, async (_, p) => {
    for (let t = 0; t < TOTAL / PRODUCERS / PER_TX; t++) {
      const events: OutboxEvent[] = Array.from({ length: PER_TX }, (_, i) => ({
        stream: 'request_logs',
        orgId: randomUUID(),
        payload: { request_id: `p${p}-t${t}-i${i}`, provider: 'openai', model: 'm', prompt_tokens: i, completion_tokens: 1, cost_micros: 2, latency_ms: 3, status: 200, stream: false },
      }));
      written.push(...(await withSystem(database, (tx) => writeOutbox(tx, events))));
      await sleep(5);
    }
  });

  // Kill the child the moment it holds a live, undelivered claim.
  let killedMidBatch = 0;
  const killer = (async () => {
    for (let i = 0; i < 1000 && doomed.exitCode === null; i++) {
      const held = await count(`locked_by = 'doomed' and delivered_at is null and parked_at is null and locked_until > now()`);
      if (held > 0) {
        killedMidBatch = held;
        doomed.kill('SIGKILL');
        break;
      }
      await sleep(10);
    }
  })();

  const sink = bigQueryEventSink({ projectId: fake.projectId, dataset: 'lattice_events', apiEndpoint: fake.url, timeoutMs: 5_000 });
  let producing = true;
  const done = Promise.all(producers).then(() => (producing = false));
  const survivor = (async () => {
    const deadline = Date.now() + 70_000;
    while (Date.now() < deadline) {
      await drainOutbox(database, sink, { workerId: 'survivor', leaseSeconds: 3, batchSize: 500 });
      if (!producing && (await count('delivered_at is null')) === 0) return;
      await sleep(100);
    }
  })();
  await Promise.all([done, killer, survivor]);
  expect(await exited).toBe('SIGKILL');
  expect(killedMidBatch).toBeGreaterThan(0);

  // Nothing lost, nothing parked, in the outbox.
  expect(written).toHaveLength(TOTAL);
  expect(await count('delivered_at is null')).toBe(0);
  expect(await count('parked_at is not null')).toBe(0);
  // The killed drainer's claim was taken over after its lease ran out.
  expect(await count(`attempts >= 2`)).toBeGreaterThan(0);

  // In BigQuery: every event, and after dedup by event_id exactly once, with its own payload.
  const all = fake.rows('request_logs');
  const unique = fake.unique('request_logs');
  expect(unique).toHaveLength(TOTAL);
  expect(new Set(unique.map((r) => r.event_id))).toEqual(new Set(written));
  expect(all.every((r) => r.insertId === r.json.event_id)).toBe(true);
  const outbox = new Map(rowsOf(await database.db.execute(sql`select event_id, payload->>'request_id' as request_id from ops.outbox`)).map((r) => [r.event_id, r.request_id]));
  expect(unique.every((r) => outbox.get(r.event_id as string) === r.request_id)).toBe(true);
  // Failures really happened (so the retries were exercised).
  expect(all.length).toBeGreaterThanOrEqual(TOTAL);
  expect(fake.calls.insertAll).toBeGreaterThan(TOTAL / 500);
});
