import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cpuMsOf, cpuMsOfAll } from './lib/cpu.js';
import { createBenchDatabase, type BenchDatabase } from './lib/database.js';
import { post } from './lib/http.js';
import { runLoad, type LoadResult } from './lib/load.js';
import { isMain } from './lib/main.js';
import { gatewayReady, provisionCaller, startProviders } from './lib/providers.js';
import { rate, ratio, summarize } from './lib/stats.js';
import { ms, printTable, section, signedMs, x, type Cell } from './lib/table.js';
import { startBenchUpstream } from './lib/upstream.js';
import { PORTKEY_ENTRY, startPortkey } from './portkey/start.js';

/**
 * Gateway overhead: the same requests sent (a) straight to a fake OpenAI upstream with a fixed
 * latency, (b) through our providers function (gateway API key auth, quota reserve + settle,
 * usage upsert and request-log outbox row on real PostgreSQL) and (c) through the open-source
 * Portkey gateway (no auth, no quotas, no persistence: a pure proxy). Both gateways run in their own
 * process; the load generator and the upstream share this one, the same for all three paths.
 */
const LATENCY_MS = Number(process.env.BENCH_UPSTREAM_LATENCY_MS ?? 20);
const CHUNKS = 16;
const SCALE = Number(process.env.BENCH_SCALE ?? 1);

interface Scenario {
  name: string;
  concurrency: number;
  stream: boolean;
  total: number;
  maxMs: number;
  /** Spread the load over SPREAD callers, each in an organization of its own (quota rows are per org and user). */
  spread?: boolean;
}

const SPREAD = 25;

const SCENARIOS: Scenario[] = [
  { name: 'sequential, JSON', concurrency: 1, stream: false, total: Math.round(150 * SCALE), maxMs: 15_000 },
  { name: 'sequential, SSE', concurrency: 1, stream: true, total: Math.round(150 * SCALE), maxMs: 15_000 },
  { name: '50 concurrent, JSON', concurrency: 50, stream: false, total: Math.round(1000 * SCALE), maxMs: 20_000 },
  { name: '50 concurrent, SSE', concurrency: 50, stream: true, total: Math.round(1000 * SCALE), maxMs: 20_000 },
  { name: `50 concurrent, JSON, ${SPREAD} orgs`, concurrency: 50, stream: false, total: Math.round(1000 * SCALE), maxMs: 20_000, spread: true },
];

interface Path {
  name: string;
  url: string;
  model: string;
  headers: Record<string, string>;
  /** Per-request headers when a scenario spreads the load over several callers. */
  spreadHeaders?: (i: number) => Record<string, string>;
  /** CPU ms used so far by the gateway process and by its database backends (none for direct). */
  cpu?: () => Promise<{ proc: number; db: number }>;
}

interface Measured extends LoadResult {
  cpuMsPerRequest: number;
  dbCpuMsPerRequest: number;
}

function requestBody(model: string, stream: boolean, i: number) {
  return {
    model,
    messages: [{ role: 'user', content: `benchmark request ${i}` }],
    max_tokens: 64,
    stream,
    ...(stream ? { stream_options: { include_usage: true } } : {}),
  };
}

async function measure(path: Path, s: Scenario): Promise<Measured> {
  const none = { proc: Number.NaN, db: Number.NaN };
  const cpu0 = path.cpu ? await path.cpu() : none;
  const r = await runLoad({ concurrency: s.concurrency, total: s.total, maxMs: s.maxMs, warmup: Math.max(10, s.concurrency) }, async (i) => {
    const headers = s.spread && path.spreadHeaders ? path.spreadHeaders(Math.abs(i)) : path.headers;
    const reply = await post(path.url, requestBody(path.model, s.stream, i), headers);
    if (reply.status !== 200) throw new Error(`${path.name}: HTTP ${reply.status} ${reply.body.slice(0, 200)}`);
    if (s.stream ? !reply.body.includes('[DONE]') : !reply.body.includes('"choices"')) throw new Error(`${path.name}: incomplete reply`);
    return reply.ttfbMs;
  });
  const cpu1 = path.cpu ? await path.cpu() : none;
  const n = r.completed + r.errors + r.warmedUp;
  return { ...r, cpuMsPerRequest: (cpu1.proc - cpu0.proc) / n, dbCpuMsPerRequest: (cpu1.db - cpu0.db) / n };
}

/** Our gateway's CPU includes its PostgreSQL backends (the quota and logging work happens there). */
async function backendCpu(bench: BenchDatabase): Promise<number> {
  const { rows } = await bench.database.pool!.query(`select pid from pg_stat_activity where datname = current_database() and application_name in ('lattice-lock', 'lattice-bench-gateway')`);
  return cpuMsOfAll(rows.map((r: { pid: number }) => r.pid));
}

function portkeyVersion(): string {
  try {
    return JSON.parse(readFileSync(join(dirname(PORTKEY_ENTRY), '..', 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

export async function main(): Promise<void> {
  const upstream = await startBenchUpstream({ latencyMs: LATENCY_MS, chunks: CHUNKS });
  const bench = await createBenchDatabase({ poolMax: 4 });
  let portkey: Awaited<ReturnType<typeof startPortkey>> | undefined;
  let providers: Awaited<ReturnType<typeof startProviders>> | undefined;
  let oursServed = 0;
  try {
    portkey = await startPortkey();
    providers = await startProviders(bench);
    const { pid: providersPid } = providers;
    const paths: Path[] = [{ name: 'direct', url: `${upstream.apiRoot}/chat/completions`, model: 'gpt-4o-mini', headers: { authorization: 'Bearer sk-bench' } }];
    const oursReady = await gatewayReady(providers);
    if (oursReady) {
      const caller = await provisionCaller(providers, bench, upstream.apiRoot);
      const spread = [caller];
      while (spread.length < SPREAD) spread.push(await provisionCaller(providers, bench, upstream.apiRoot));
      paths.push({
        name: 'ours', url: `${providers.url}/v1/chat/completions`, model: caller.model, headers: { authorization: `Bearer ${caller.gatewayKey}` },
        spreadHeaders: (i) => ({ authorization: `Bearer ${spread[i % spread.length]!.gatewayKey}` }),
        cpu: async () => ({ proc: cpuMsOf(providersPid), db: await backendCpu(bench) }),
      });
    } else {
      process.stdout.write('\n(our providers function does not serve /v1/chat/completions, /keys and /api-keys yet: path (b) skipped)\n');
    }
    paths.push({ name: 'portkey', url: `${portkey.url}/v1/chat/completions`, model: 'gpt-4o-mini', headers: { authorization: 'Bearer sk-bench', ...portkey.routeHeaders(upstream.apiRoot) }, cpu: async () => ({ proc: cpuMsOf(portkey!.pid), db: 0 }) });

    section(`Gateway overhead (upstream latency ${LATENCY_MS} ms, ${CHUNKS} streamed chunks)`);
    process.stdout.write(`\nours: ${providers.mode}, pool of 10, real PostgreSQL; Portkey ${portkeyVersion()} (node build/start-server.js, forced onto 127.0.0.1).\n`);
    const summary: Cell[][] = [];
    const raw: Cell[][] = [];
    for (const [k, s] of SCENARIOS.entries()) {
      const results = new Map<string, Measured>();
      // Rotate the order per scenario so no path always runs first (or last) on a shared machine.
      const order = paths.map((_, i) => paths[(i + k) % paths.length]!);
      for (const p of order) results.set(p.name, await measure(p, s));
      const o = results.get('ours');
      if (o) oursServed += o.completed + o.warmedUp - o.warmupErrors;
      const stat = (name: string) => {
        const r = results.get(name);
        if (!r) return undefined;
        return { ...summarize(r.latencies), ttfb: summarize(r.extras), rps: rate(r.completed, r.elapsedMs), cpu: r.cpuMsPerRequest + (r.dbCpuMsPerRequest || 0), procCpu: r.cpuMsPerRequest, dbCpu: r.dbCpuMsPerRequest, errors: r.errors, firstError: r.firstError };
      };
      const direct = stat('direct')!;
      for (const p of paths) {
        const st = stat(p.name)!;
        raw.push([s.name, p.name, st.n, ms(st.p50), ms(st.p99), s.stream ? ms(st.ttfb.p50) : '—', Math.round(st.rps), Number.isFinite(st.procCpu) ? ms(st.procCpu) : '—', p.name === 'ours' ? ms(st.dbCpu) : '—', st.errors]);
        if (st.errors) process.stdout.write(`  ${s.name} / ${p.name}: ${st.errors} errors, first: ${st.firstError}\n`);
      }
      const ours = stat('ours');
      const pk = stat('portkey')!;
      const added = (st: typeof direct | undefined) => (st ? [st.p50 - direct.p50, st.p99 - direct.p99, ratio(st.rps, direct.rps)] : [Number.NaN, Number.NaN, Number.NaN]);
      const [o50, o99, orps] = added(ours);
      const [k50, k99, krps] = added(pk);
      summary.push([s.name, signedMs(o50!), signedMs(o99!), x(orps!), signedMs(k50!), signedMs(k99!), x(krps!), x(ratio(o50!, k50!)), x(ratio(ours?.rps ?? Number.NaN, pk.rps)), x(ratio(ours?.cpu ?? Number.NaN, pk.cpu))]);
    }
    printTable('Measured (ms; total time to the last byte, TTFB for streams)', ['scenario', 'path', 'n', 'p50', 'p99', 'TTFB p50', 'RPS', 'gateway CPU ms/req', 'its DB CPU ms/req', 'errors'], raw);
    printTable(
      'Relative to direct (same run)',
      ['scenario', 'ours +p50', 'ours +p99', 'ours RPS / direct', 'Portkey +p50', 'Portkey +p99', 'Portkey RPS / direct', 'ours/Portkey added p50', 'ours/Portkey RPS', 'ours/Portkey CPU per request'],
      summary,
      [
        '+p50/+p99: latency added to the direct call at that percentile. RPS / direct: throughput kept (1.00× = no loss).',
        'ours/Portkey added p50 > 1 means ours adds more latency than Portkey; ours/Portkey RPS < 1 means ours serves fewer requests per second.',
        'CPU ms/req: CPU time of the gateway process per request (and, for ours, of its PostgreSQL backends: Portkey keeps no state), the least noisy figure on a shared machine. The CPU ratio counts ours with its database.',
      ],
    );
    if (oursReady) {
      // Settlement may finish just after the response (streams settle when they end): wait until it is still.
      let last = -1;
      for (let tries = 0; tries < 20; tries++) {
        const n = Number((await bench.database.pool!.query(`select count(*) as n from providers.quota_reservations where state = 'settled'`)).rows[0].n);
        if (n === last) break;
        last = n;
        await new Promise((r) => setTimeout(r, 250));
      }
      const { rows } = await bench.database.pool!.query('select coalesce(sum(requests), 0)::bigint as requests, coalesce(sum(prompt_tokens + completion_tokens), 0)::bigint as tokens from providers.usage_tracking');
      process.stdout.write(`\nBilling check: our gateway answered ${oursServed} successful calls (warm-up included) and usage_tracking holds ${rows[0].requests} requests, ${rows[0].tokens} tokens.\n`);
    }
  } finally {
    await providers?.close();
    await portkey?.close();
    await bench.drop();
    await upstream.close();
  }
}

if (isMain(import.meta.url)) await main();
