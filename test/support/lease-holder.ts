/**
 * One gateway instance's quota leases in its own process, for the multi-process race
 * (test/providers/leases/race.chaos.test.ts). env: DATABASE_URL, NOW (the injected clock, fixed: no serve window ends during
 * a race). Commands on stdin, one per line:
 *   go {orgId, userId, day, month, clients, worst} → that many concurrent clients each reserve `worst`
 *       tokens until their first 429, holding what they got; prints "raced {granted, refused, bad}".
 *   settle → settles every held call with its real usage (≤ worst), gives the leases back, prints
 *       "done {billed, settled}".
 * SIGTERM settles, gives back and exits (what serve.ts does: drain the calls, then services.close gives
 * the leases back). SIGKILL leaves its leases to the expiry job.
 */
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { pgFromUrl } from '../../functions/shared/db/pg.js';
import { QuotaLeases, type LeaseTicket } from '../../functions/providers/service/leases/index.js';
import { settleWithAlerts } from '../../functions/providers/service/quota.js';
import { HttpProblem } from '../../functions/shared/http/index.js';

const database = pgFromUrl(process.env.DATABASE_URL!, { max: 4 });
const now = Number(process.env.NOW);
const leases = new QuotaLeases(database, { clock: () => now });
let round: { orgId: string; userId: string; day: string; month: string; clients: number; worst: number } | undefined;
let held: LeaseTicket[] = [];

async function race() {
  const r = round!;
  let refused = 0;
  let bad = 0;
  await Promise.all(Array.from({ length: r.clients }, async () => {
    for (;;) {
      try {
        held.push(await leases.reserve({ orgId: r.orgId, userId: r.userId }, { day: r.day, month: r.month }, { requestId: randomUUID(), tokens: r.worst, costMicros: 0, ttlSeconds: 60 }));
      } catch (err) {
        if (err instanceof HttpProblem && err.status === 429) refused++;
        else bad++;
        return;
      }
    }
  }));
  process.stdout.write(`raced ${JSON.stringify({ granted: held.length, refused, bad })}\n`);
}

async function settleAll() {
  const r = round;
  let billed = 0;
  const calls = held;
  held = [];
  await Promise.all(calls.map(async (ticket, i) => {
    const tokens = r!.worst - (i % 5);
    await settleWithAlerts(database, { orgId: r!.orgId, userId: r!.userId }, {
      requestId: ticket.requestId, provider: 'openai', model: 'gpt-4o-mini', promptTokens: 5, completionTokens: tokens - 5, costMicros: 0,
      latencyMs: 1, status: 200, stream: false, keySource: 'platform', occurredAt: new Date(now), lease: ticket,
    });
    billed += tokens;
  }));
  await leases.returnAll();
  process.stdout.write(`done ${JSON.stringify({ billed, settled: calls.length })}\n`);
}

process.once('SIGTERM', () => void settleAll().finally(() => process.exit(0)));
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line.startsWith('go ')) {
    round = JSON.parse(line.slice(3));
    await race();
  }
  if (line === 'settle') await settleAll();
}
