import { cpuMsOf, cpuMsOfAll } from './lib/cpu.js';
import { createBenchDatabase, type BenchDatabase } from './lib/database.js';
import { post } from './lib/http.js';
import { runLoad } from './lib/load.js';
import { isMain } from './lib/main.js';
import { provisionCaller, startProviders } from './lib/providers.js';
import { startBenchUpstream } from './lib/upstream.js';

/**
 * Gateway CPU per request only (no Portkey, no direct path): the quick loop for work on the request
 * path (`npx tsx bench/gateway-cpu.ts`). Prints the providers process's CPU ms per request and its
 * PostgreSQL backends', the figures that move least on a shared machine. `BENCH_CPU_PROF=dir` runs the
 * providers process under `node --cpu-prof` and leaves the .cpuprofile in that directory.
 * Not part of `npm run bench`: the published comparison is gateway-overhead.ts.
 */
const N = Math.max(20, Math.round(Number(process.env.BENCH_N ?? 200)));
/** `BENCH_ONLY=concurrent` (a substring of the names) keeps just the matching scenarios, e.g. for one profile. */
const only = process.env.BENCH_ONLY;
const scenarios = [
  { name: 'sequential JSON', concurrency: 1, stream: false, total: N },
  { name: 'sequential SSE', concurrency: 1, stream: true, total: N },
  { name: '20 concurrent JSON', concurrency: 20, stream: false, total: 2 * N },
].filter((s) => !only || s.name.includes(only));

/** Transactions committed and rolled back in the bench database (pg_stat_database; the stats collector lags up to 0.5 s). */
async function transactions(bench: BenchDatabase): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 600));
  const { rows } = await bench.database.pool!.query(`select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()`);
  return Number(rows[0].n);
}

async function backendCpu(bench: BenchDatabase): Promise<number> {
  const { rows } = await bench.database.pool!.query(`select pid from pg_stat_activity where datname = current_database() and application_name in ('lattice-lock', 'lattice-bench-gateway')`);
  return cpuMsOfAll(rows.map((r: { pid: number }) => r.pid));
}

export async function main(): Promise<void> {
  const upstream = await startBenchUpstream({ latencyMs: Number(process.env.BENCH_UPSTREAM_LATENCY_MS ?? 20), chunks: 16 });
  const bench = await createBenchDatabase({ poolMax: 2 });
  const prof = process.env.BENCH_CPU_PROF;
  // The providers process inherits this environment (KMS_DEK_CACHE_TTL_MS=0 measures without the DEK cache).
  if (prof) process.env.BENCH_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${prof}`;
  const providers = await startProviders(bench);
  try {
    const caller = await provisionCaller(providers, bench, upstream.apiRoot);
    const headers = { authorization: `Bearer ${caller.gatewayKey}` };
    const url = `${providers.url}/v1/chat/completions`;
    process.stdout.write(`providers: ${providers.mode}\n| scenario | n | gateway CPU ms/req | DB CPU ms/req | DB transactions/req | errors |\n|---|--:|--:|--:|--:|--:|\n`);
    for (const s of scenarios) {
      const p0 = cpuMsOf(providers.pid);
      const x0 = await transactions(bench);
      const d0 = await backendCpu(bench);
      const r = await runLoad({ concurrency: s.concurrency, total: s.total, maxMs: 120_000, warmup: Math.max(10, s.concurrency) }, async (i) => {
        const body = { model: caller.model, messages: [{ role: 'user', content: `benchmark request ${i}` }], max_tokens: 64, stream: s.stream, ...(s.stream ? { stream_options: { include_usage: true } } : {}) };
        const reply = await post(url, body, headers);
        if (reply.status !== 200 || !reply.body.includes(s.stream ? '[DONE]' : '"choices"')) throw new Error(`HTTP ${reply.status} ${reply.body.slice(0, 200)}`);
      });
      const n = r.completed + r.errors + r.warmedUp;
      const proc = (cpuMsOf(providers.pid) - p0) / n;
      const db = ((await backendCpu(bench)) - d0) / n;
      const tx = ((await transactions(bench)) - x0 - 2) / n;
      process.stdout.write(`| ${s.name} | ${r.completed} | ${proc.toFixed(2)} | ${db.toFixed(2)} | ${tx.toFixed(2)} | ${r.errors}${r.firstError ? ` (${r.firstError.slice(0, 120)})` : ''} |\n`);
    }
  } finally {
    await providers.close();
    await bench.drop();
    await upstream.close();
  }
}

if (isMain(import.meta.url)) await main();
