import { randomUUID } from 'node:crypto';
import { periodsAt, reserve, settle, type Settlement } from '../functions/providers/service/quota.js';
import { SettleBatcher } from '../functions/providers/service/settle-batcher.js';
import { loadConfig } from '../functions/shared/config.js';
import type { Database } from '../functions/shared/db/database.js';
import { createLogger } from '../functions/shared/http/logger.js';
import { createBenchDatabase } from './lib/database.js';
import { createBenchTenant, type BenchTenant } from './lib/fixtures.js';
import { isMain } from './lib/main.js';
import { rate, ratio } from './lib/stats.js';
import { printTable, section, x } from './lib/table.js';

/**
 * Settlement: one statement per call (quota.ts settle, what the gateway did before issue 16) against
 * the group-commit batcher (settle-batcher.ts, what it does now), for calls of one organization (its
 * counters are the hot rows) and of 8, at 1, 8 and 32 concurrent gateway requests:
 * - per call, each request waits for its settle's commit before answering (the old hot path);
 * - with the batcher, a request hands its settle over and answers; the clock stops when every settle
 *   handed over is committed (flush), so both columns are durable settles per second.
 * The reservations are made beforehand and not timed.
 */
const CLIENTS = [1, 8, 32];
const CALLS = Number(process.env.BENCH_SETTLES ?? 600);

interface Call {
  tenant: BenchTenant;
  s: Settlement;
}

async function prepare(database: Database, tenants: BenchTenant[], count: number): Promise<Call[]> {
  const calls: Call[] = Array.from({ length: count }, (_, i) => ({
    tenant: tenants[i % tenants.length]!,
    s: { requestId: randomUUID(), provider: 'openai', model: 'gpt-4o-mini', promptTokens: 40, completionTokens: 60, costMicros: 30, latencyMs: 5, status: 200, stream: false, keySource: 'platform' },
  }));
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < calls.length) {
      const c = calls[next++]!;
      await reserve(database, c.tenant, periodsAt(new Date()), { requestId: c.s.requestId, tokens: 500, costMicros: 1_000, ttlSeconds: 600 });
    }
  }));
  return calls;
}

/** `clients` requests at a time; `answer` is what a request waits for before the next one starts. */
async function timed(calls: Call[], clients: number, answer: (c: Call) => Promise<unknown>, durable: () => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < calls.length) await answer(calls[next++]!);
  }));
  await durable();
  return rate(calls.length, performance.now() - started);
}

export async function main(): Promise<void> {
  const cfg = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'error' });
  const bench = await createBenchDatabase({ poolMax: 10 });
  try {
    const { database } = bench;
    const batcher = new SettleBatcher({ database, log: createLogger() });
    section('Settlement: one statement per call vs group commit');
    const rows: (string | number)[][] = [];
    for (const orgs of [1, 8]) {
      const tenants = await Promise.all(Array.from({ length: orgs }, () => createBenchTenant(database, cfg)));
      for (const [k, clients] of CLIENTS.entries()) {
        const perCall = await prepare(database, tenants, CALLS);
        const batched = await prepare(database, tenants, CALLS);
        const before = { ...batcher.stats };
        const run = {
          single: () => timed(perCall, clients, (c) => settle(database, c.tenant, c.s), async () => {}),
          batch: () => timed(batched, clients, async (c) => void batcher.settle(c.tenant, c.s), () => batcher.flush()),
        };
        // Alternate which goes first so neither always gets the warmer (or busier) machine.
        const single = k % 2 ? await run.single() : undefined;
        const batch = await run.batch();
        const one = single ?? (await run.single());
        const perBatch = (batcher.stats.calls - before.calls) / Math.max(1, batcher.stats.batches - before.batches);
        rows.push([orgs, clients, Math.round(one), Math.round(batch), x(ratio(batch, one)), perBatch.toFixed(0)]);
      }
    }
    await batcher.close();
    printTable('Durable settles per second', ['orgs', 'concurrent requests', 'one statement per call', 'group commit (batcher)', 'batcher / per call', 'calls per batch'], rows, [
      `${CALLS} settles per cell, timed until all are committed. A settle moves the reservation to settled, the 4 counters reserved → used, upserts usage_tracking and appends the request-log outbox row. Batcher defaults: a batch every 5 ms or 256 calls, 2 committing at once.`,
    ]);
  } finally {
    await bench.drop();
  }
}

if (isMain(import.meta.url)) await main();
