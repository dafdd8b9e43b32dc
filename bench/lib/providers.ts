import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../../functions/shared/config.js';
import type { BenchDatabase } from './database.js';
import { createBenchTenant } from './fixtures.js';
import { get, post } from './http.js';
import { kmsLatencyMs, startBenchKms, type BenchKms } from './kms.js';
import { freePort } from './net.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface RunningProviders {
  url: string;
  pid: number;
  cfg: Config;
  close(): Promise<void>;
}

export interface ProvidersCluster {
  /** One per gateway process, all on the same database. */
  instances: RunningProviders[];
  urls: string[];
  pids: number[];
  cfg: Config;
  mode: string;
  close(): Promise<void>;
}

const ROOT = join(here, '..', '..');
const FRAMEWORK_BIN = join(ROOT, 'node_modules', '@google-cloud', 'functions-framework', 'build', 'src', 'main.js');
const KMS_PRELOAD = join(here, 'kms-preload.cjs');

export interface ProvidersOptions {
  /** Gateway processes sharing the database (the multi-instance case); default 1. */
  instances?: number;
  /** Extra environment for every process. */
  env?: Record<string, string>;
  /** Key encryption through the Cloud KMS fake (bench/lib/kms.ts) instead of the local keyring. */
  kms?: BenchKms;
}

/**
 * Environment that makes the gateway seal and unwrap BYOK data keys through the KMS fake: the product's
 * own KMS_EMULATOR_HOST where it has one (config.ts), else a preload that points @google-cloud/kms's
 * client at the fake (kms-preload.cjs), so the same harness measures revisions from before that knob.
 */
function kmsEnv(kms: BenchKms | undefined): Record<string, string> {
  if (!kms) return {};
  const hostPort = `${kms.host}:${kms.port}`;
  const base = { KEY_ENCRYPTOR: 'kms', KMS_KEY_NAME: kms.keyName };
  const productKnob = (loadConfig({ NODE_ENV: 'test', KMS_EMULATOR_HOST: hostPort }) as Record<string, unknown>).KMS_EMULATOR_HOST !== undefined;
  if (productKnob) return { ...base, KMS_EMULATOR_HOST: hostPort };
  return { ...base, BENCH_KMS_ENDPOINT: hostPort, NODE_OPTIONS: [process.env.NODE_OPTIONS, `--require ${KMS_PRELOAD}`].filter(Boolean).join(' ') };
}

/**
 * Our providers function as it is deployed: the esbuild bundle from scripts/build.ts served by the
 * functions-framework binary, one process per instance (like Portkey), logs to stdout as on Cloud Run.
 * Falls back to the TypeScript sources under tsx (bench/lib/providers-child.ts) if the bundle cannot be built.
 */
export async function startProvidersCluster(bench: BenchDatabase, options: ProvidersOptions = {}): Promise<ProvidersCluster> {
  const count = Math.max(1, options.instances ?? 1);
  const env = { ...(options.env ?? {}), ...kmsEnv(options.kms) };
  const cfg = loadConfig({ NODE_ENV: 'test', DATABASE_URL: bench.url, ...(options.env ?? {}) });
  const outRoot = join(ROOT, 'dist', `.bench-gateway-${process.pid}`);
  const started: RunningProviders[] = [];
  const closeAll = async () => {
    await Promise.all(started.map((s) => s.close()));
    rmSync(outRoot, { recursive: true, force: true });
  };
  let mode = 'esbuild bundle under functions-framework';
  try {
    let bundleDir: string | undefined;
    try {
      const { buildFunction } = await import('../../scripts/build.js');
      bundleDir = (await buildFunction('providers', outRoot)).dir;
    } catch (err) {
      process.stdout.write(`(providers bundle unavailable, running the sources under tsx: ${(err as Error).message.slice(0, 200)})\n`);
      mode = 'TypeScript sources under tsx';
    }
    // Started one after the other: two cold starts at once on a 2-core machine only slow each other.
    for (let i = 0; i < count; i++) {
      started.push(bundleDir ? await startBundle(bench, cfg, bundleDir, env) : await startFromSources(bench, cfg, env));
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  return { instances: started, urls: started.map((s) => s.url), pids: started.map((s) => s.pid), cfg, mode, close: closeAll };
}

/**
 * One gateway process with its own KMS fake (BENCH_KMS_LATENCY_MS, default 10 ms; `off` keeps the
 * local keyring), for benchmarks that need a single instance (bench/gateway-cpu.ts).
 */
export async function startProviders(bench: BenchDatabase, env: Record<string, string> = {}): Promise<RunningProviders & { mode: string }> {
  const kms = kmsLatencyMs() === null ? undefined : await startBenchKms();
  try {
    const cluster = await startProvidersCluster(bench, { env, kms });
    return { ...cluster.instances[0]!, mode: cluster.mode, close: () => cluster.close().finally(() => kms?.close()) };
  } catch (err) {
    await kms?.close();
    throw err;
  }
}

async function startBundle(bench: BenchDatabase, cfg: Config, bundleDir: string, env: Record<string, string>): Promise<RunningProviders> {
  const port = await freePort();
  // BENCH_NODE_ARGS: node flags for the gateway process (e.g. --cpu-prof, which NODE_OPTIONS refuses).
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, FRAMEWORK_BIN, '--target=providers', `--source=${bundleDir}`, `--port=${port}`], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info', DATABASE_URL: bench.url, ...env },
    stdio: ['ignore', process.env.BENCH_CHILD_STDOUT ? 'inherit' : 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (d) => {
    output = (output + d).slice(-4000);
    if (process.env.BENCH_CHILD_STDOUT) process.stderr.write(d);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`bundle exited with ${child.exitCode}: ${output}`);
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`bundle did not answer: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, pid: child.pid!, cfg, close: () => stop(child, exited) };
}

async function stop(child: ReturnType<typeof spawn>, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

async function startFromSources(bench: BenchDatabase, cfg: Config, env: Record<string, string>): Promise<RunningProviders> {
  const childEnv = { ...process.env, NODE_ENV: 'test', DATABASE_URL: bench.url, ...env };
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'providers-child.ts')], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr.on('data', (d) => (output = (output + d).slice(-4000)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`providers did not start: ${output}`)), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      const m = /READY (\d+)/.exec(String(d));
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`providers exited with ${code}: ${output}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, cfg, close: () => stop(child, exited) };
}

export interface GatewayCaller {
  orgId: string;
  userId: string;
  accessToken: string;
  gatewayKey: string;
  model: string;
}

/**
 * A caller set up the way a user would do it: a BYOK key per upstream (named "bench" by default, so the
 * model is "bench/<model>") and a gateway API key, all through the public routes. `upstreams` adds
 * more keys by name (e.g. { up0: …, up20: … }), reached as "<name>/<model>".
 */
export async function provisionCaller(
  running: Pick<RunningProviders, 'url' | 'cfg'>,
  bench: BenchDatabase,
  upstreamApiRoot: string,
  upstreamModel = 'gpt-4o-mini',
  upstreams: Record<string, string> = {},
): Promise<GatewayCaller> {
  const tenant = await createBenchTenant(bench.database, running.cfg, 'admin');
  const auth = { authorization: `Bearer ${tenant.token}` };
  for (const [name, root] of Object.entries({ bench: upstreamApiRoot, ...upstreams })) {
    const key = await post(`${running.url}/keys`, { provider: 'openai', name, api_key: 'sk-bench-0123456789abcdef0123456789', base_url: root }, auth);
    if (key.status !== 201) throw new Error(`POST /keys answered ${key.status}: ${key.body.slice(0, 300)}`);
  }
  const apiKey = await post(`${running.url}/api-keys`, { name: 'bench' }, auth);
  if (apiKey.status !== 201) throw new Error(`POST /api-keys answered ${apiKey.status}: ${apiKey.body.slice(0, 300)}`);
  return { orgId: tenant.orgId, userId: tenant.userId, accessToken: tenant.token, gatewayKey: JSON.parse(apiKey.body).key, model: `bench/${upstreamModel}` };
}

/** Whether the providers function already serves the gateway routes (another issue builds them). */
export async function gatewayReady(running: Pick<RunningProviders, 'url'>): Promise<boolean> {
  const doc = await get(`${running.url}/openapi.json`);
  if (doc.status !== 200) return false;
  const paths = JSON.parse(doc.body).paths ?? {};
  return Boolean(paths['/v1/chat/completions'] && paths['/keys'] && paths['/api-keys']);
}
