import { loadavg } from 'node:os';
import { createBenchDatabase } from './lib/database.js';
import { post, put, type Reply } from './lib/http.js';
import { kmsLatencyMs, startBenchKms } from './lib/kms.js';
import { runLoad } from './lib/load.js';
import { isMain } from './lib/main.js';
import { provisionCaller, startProvidersCluster, type GatewayCaller, type ProvidersCluster } from './lib/providers.js';
import { printTable, section } from './lib/table.js';
import { PROMPT_TOKENS, startBenchUpstream } from './lib/upstream.js';
import { settledUsage } from './lib/usage.js';

/**
 * Quota race across four gateway processes sharing one PostgreSQL (issue 16): 1, 8, 32 and 128
 * clients spread round-robin over the processes' ports race for one user's daily token limit,
 * through the public API only (PUT /quotas/users/{id}, POST /v1/chat/completions), so the figure
 * holds whatever the gateway does inside (exact reservations, leases, batched settlement).
 *
 * - overspend: tokens used beyond the limit, counted three ways (usage the clients were told,
 *   usage_tracking, calls the upstream served × their usage); any of them above the limit is money
 *   spent that the quota should have refused. Target: 0.
 * - false 429: a refusal while the limit minus the work already granted could still fit the request.
 *   For a 429 sent at s and answered at e, the work granted is the usage of every call answered 200
 *   before s plus the worst case (what the gateway reserves) of every call answered 200 that was in
 *   flight at any time in [s, e]; the refusal is false if the limit minus that still fits this
 *   request's worst case. An exact reserving gateway that settles before answering never refuses
 *   falsely by this rule; leases held by other processes, or settlement applied after the answer,
 *   can. Target: counted and bounded.
 */
const CLIENTS = [1, 8, 32, 128];
const INSTANCES = 4;
const CHUNKS = 16;
const USAGE = PROMPT_TOKENS + CHUNKS; // what the fake upstream reports for every call
const FITS = Number(process.env.BENCH_RACE_FITS ?? 40); // calls of USAGE tokens the limit holds
const LIMIT = FITS * USAGE;
const MAX_TOKENS = CHUNKS; // the reservation's output part equals what is produced: a tight race
// A prompt long enough that the gateway's over-estimate of prompt tokens covers the upstream's 12.
const PROMPT = 'race for the last tokens of a daily quota, call number ';
const attemptsFor = (clients: number) => Math.max(3 * FITS, 3 * clients);

interface Call {
  sentAt: number;
  doneAt: number;
  status: number;
  tokens: number;
  /** The request's worst case as the gateway reserves it (from the 429 body; calls are identical). */
  need?: number;
  error?: string;
}

function needOf(reply: Reply): number | undefined {
  try {
    const body = JSON.parse(reply.body);
    const n = body?.limit?.requested ?? body?.error?.limit?.requested;
    if (typeof n === 'number') return n;
    const m = /needs up to (\d+)/.exec(String(body?.detail ?? body?.error?.message ?? ''));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** False refusals by the rule in the header comment. */
export function falseRefusals(calls: Call[], limit: number, fallbackNeed: number): number {
  const granted = calls.filter((c) => c.status === 200);
  let count = 0;
  for (const r of calls) {
    if (r.status !== 429) continue;
    const need = r.need ?? fallbackNeed;
    let work = 0;
    for (const g of granted) {
      if (g.doneAt <= r.sentAt) work += g.tokens;
      else if (g.sentAt < r.doneAt) work += need;
    }
    if (limit - work >= need) count++;
  }
  return count;
}

export async function main(): Promise<void> {
  const upstream = await startBenchUpstream({ latencyMs: 20, chunks: CHUNKS });
  const kms = kmsLatencyMs() === null ? undefined : await startBenchKms();
  const bench = await createBenchDatabase({ poolMax: 2 });
  let cluster: ProvidersCluster | undefined;
  try {
    cluster = await startProvidersCluster(bench, { instances: INSTANCES, kms });
    const gw = cluster;
    const body = (model: string, i: number) => ({ model, messages: [{ role: 'user', content: `${PROMPT}${String(i).padStart(4, '0')}` }], max_tokens: MAX_TOKENS });
    // Warm every process (JIT, pools) with a caller that has no limit, so the race measures the quota.
    const warm = await provisionCaller(gw.instances[0]!, bench, upstream.apiRoot);
    await runLoad({ concurrency: 8, total: 20 * INSTANCES, maxMs: 60_000 }, async (i) => {
      const r = await post(`${gw.urls[i % INSTANCES]}/v1/chat/completions`, body(warm.model, i), { authorization: `Bearer ${warm.gatewayKey}` });
      if (r.status !== 200) throw new Error(`warm-up: HTTP ${r.status} ${r.body.slice(0, 200)}`);
    });

    section(`Quota race across ${INSTANCES} gateway processes on one PostgreSQL`);
    process.stdout.write(
      `\nours: ${gw.mode}; one user's daily token limit of ${LIMIT.toLocaleString('en-US')} tokens (${FITS} calls of ${USAGE} tokens fit), ` +
        `each call max_tokens ${MAX_TOKENS}, upstream 20 ms, ${kms ? `KMS ${kms.latencyMs} ms` : 'local keyring'}; requests spread round-robin over the ${INSTANCES} processes.\n`,
    );
    const rows: (string | number)[][] = [];
    let overspent = 0;
    for (const clients of CLIENTS) {
      const caller: GatewayCaller = await provisionCaller(gw.instances[0]!, bench, upstream.apiRoot);
      const limited = await put(`${gw.urls[0]}/quotas/users/${caller.userId}`, { daily_token_limit: LIMIT }, { authorization: `Bearer ${caller.accessToken}` });
      if (limited.status !== 200) throw new Error(`PUT /quotas/users answered ${limited.status}: ${limited.body.slice(0, 300)}`);
      const calls: Call[] = [];
      const upstream0 = upstream.requests;
      const t0 = performance.now();
      const attempts = attemptsFor(clients);
      await runLoad({ concurrency: clients, total: attempts, maxMs: 120_000 }, async (i) => {
        const sentAt = performance.now();
        let reply: Reply;
        try {
          reply = await post(`${gw.urls[i % INSTANCES]}/v1/chat/completions`, body(caller.model, i), { authorization: `Bearer ${caller.gatewayKey}` });
        } catch (err) {
          calls.push({ sentAt, doneAt: performance.now(), status: 0, tokens: 0, error: (err as Error).message });
          return;
        }
        const doneAt = performance.now();
        let tokens = 0;
        if (reply.status === 200) tokens = Number(JSON.parse(reply.body)?.usage?.total_tokens ?? 0);
        calls.push({ sentAt, doneAt, status: reply.status, tokens, need: reply.status === 429 ? needOf(reply) : undefined, error: reply.status === 200 || reply.status === 429 ? undefined : reply.body.slice(0, 200) });
      });
      const wallS = (performance.now() - t0) / 1000;
      const granted = calls.filter((c) => c.status === 200);
      const refused = calls.filter((c) => c.status === 429);
      const failed = calls.filter((c) => c.status !== 200 && c.status !== 429);
      const told = granted.reduce((s, c) => s + c.tokens, 0);
      const db = (await settledUsage(bench, caller.userId)).tokens;
      const upstreamTokens = (upstream.requests - upstream0) * USAGE;
      const need = refused.find((c) => c.need !== undefined)?.need ?? Number.NaN;
      const falses = falseRefusals(calls, LIMIT, need);
      const over = Math.max(0, told - LIMIT, db - LIMIT, upstreamTokens - LIMIT);
      overspent += over;
      if (failed.length) process.stdout.write(`  ${clients} clients: ${failed.length} calls neither 200 nor 429, first: ${failed[0]!.status} ${failed[0]!.error}\n`);
      rows.push([clients, attempts, granted.length, refused.length, falses, failed.length, db, upstreamTokens, over, LIMIT - db, Number.isFinite(need) ? need : '?', wallS.toFixed(1), loadavg()[0]!.toFixed(1)]);
    }
    printTable(
      `Race for a daily limit of ${LIMIT.toLocaleString('en-US')} tokens`,
      ['clients', 'attempts', 'granted', '429', 'false 429', 'other errors', 'tokens used (usage_tracking)', 'tokens served upstream', 'overspend', 'room left', 'worst case per call', 'wall s', 'load 1 min'],
      rows,
      [
        `granted = calls answered 200 (${USAGE} tokens each); overspend = tokens used beyond the limit by the largest of usage told to clients, usage_tracking and upstream calls × ${USAGE}; room left = limit − usage_tracking.`,
        'false 429 = refused while the limit minus the work already granted (usage of calls answered before it was sent, worst case of calls answered 200 while it was in flight) still fit its worst case.',
      ],
    );
    if (overspent > 0) {
      process.stdout.write(`\nOVERSPEND: ${overspent} tokens granted beyond the limit.\n`);
      process.exitCode = 1;
    }
  } finally {
    await cluster?.close();
    await bench.drop();
    await kms?.close();
    await upstream.close();
  }
}

if (isMain(import.meta.url)) await main();
