import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../../functions/shared/config.js';
import { startKmsFake } from '../../test/fakes/kms.js';
import type { BenchDatabase } from './database.js';
import { createBenchTenant } from './fixtures.js';
import { get, post } from './http.js';
import { freePort } from './net.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface RunningProviders {
  url: string;
  pid: number;
  cfg: Config;
  close(): Promise<void>;
}

const ROOT = join(here, '..', '..');
const FRAMEWORK_BIN = join(ROOT, 'node_modules', '@google-cloud', 'functions-framework', 'build', 'src', 'main.js');

/**
 * Our providers function as it is deployed: the esbuild bundle from scripts/build.ts served by the
 * functions-framework binary, in its own process (like Portkey), logs to stdout as on Cloud Run.
 * Falls back to the TypeScript sources under tsx (bench/lib/providers-child.ts) if the bundle cannot be built.
 */
export async function startProviders(bench: BenchDatabase, extraEnv: Record<string, string> = {}): Promise<RunningProviders & { mode: string }> {
  const kms = await startBenchKms();
  const env = { ...kms.env, ...extraEnv };
  const running = await startProvidersWith(bench, env);
  return { ...running, close: () => running.close().finally(() => kms.close()) };
}

/**
 * Provider keys are sealed by the real @google-cloud/kms client against the local KMS fake
 * (test/fakes/kms.ts), which answers after BENCH_KMS_LATENCY_MS (default 10): a KMS round trip on
 * Google's network, so what an unwrap per call costs shows in the figures. BENCH_KMS_LATENCY_MS=off
 * keeps the local keyring instead.
 */
async function startBenchKms(): Promise<{ env: Record<string, string>; close(): Promise<void> }> {
  const setting = process.env.BENCH_KMS_LATENCY_MS ?? '10';
  if (setting === 'off') return { env: {}, close: async () => {} };
  const fake = await startKmsFake({ latencyMs: Number(setting) });
  return { env: { KEY_ENCRYPTOR: 'kms', KMS_KEY_NAME: fake.keyName, KMS_EMULATOR_HOST: `${fake.host}:${fake.port}` }, close: () => fake.close() };
}

async function startProvidersWith(bench: BenchDatabase, env: Record<string, string>): Promise<RunningProviders & { mode: string }> {
  const cfg = loadConfig({ NODE_ENV: 'test', DATABASE_URL: bench.url, ...env });
  const outRoot = join(ROOT, 'dist', '.bench-gateway');
  try {
    const { buildFunction } = await import('../../scripts/build.js');
    const bundle = await buildFunction('providers', outRoot);
    const port = await freePort();
    const child = spawn(process.execPath, [FRAMEWORK_BIN, '--target=providers', `--source=${bundle.dir}`, `--port=${port}`], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info', DATABASE_URL: bench.url, ...env },
      stdio: ['ignore', process.env.BENCH_CHILD_STDOUT ? 'inherit' : 'ignore', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (d) => { output = (output + d).slice(-4000); if (process.env.BENCH_CHILD_STDOUT) process.stderr.write(d); });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`bundle exited with ${child.exitCode}: ${output}`);
      const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`bundle did not answer: ${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return {
      url, pid: child.pid!, cfg, mode: 'esbuild bundle under functions-framework',
      async close() {
        if (child.exitCode === null) child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        rmSync(outRoot, { recursive: true, force: true });
      },
    };
  } catch (err) {
    process.stdout.write(`(providers bundle unavailable, running the sources under tsx: ${(err as Error).message.slice(0, 200)})\n`);
    rmSync(outRoot, { recursive: true, force: true });
    return { ...(await startFromSources(bench, cfg, env)), mode: 'TypeScript sources under tsx' };
  }
}

async function startFromSources(bench: BenchDatabase, cfg: Config, env: Record<string, string>): Promise<RunningProviders> {
  const childEnv = { ...process.env, NODE_ENV: 'test', DATABASE_URL: bench.url, ...env };
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'providers-child.ts')], { cwd: join(here, '..', '..'), env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr.on('data', (d) => (output = (output + d).slice(-4000)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`providers did not start: ${output}`)), 30_000);
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
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    cfg,
    async close() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

export interface GatewayCaller {
  orgId: string;
  userId: string;
  accessToken: string;
  gatewayKey: string;
  model: string;
}

/**
 * A caller set up the way a user would do it: a BYOK key for the upstream named "bench" (so the
 * model is "bench/<model>") and a gateway API key, both through the public routes.
 */
export async function provisionCaller(running: RunningProviders, bench: BenchDatabase, upstreamApiRoot: string, upstreamModel = 'gpt-4o-mini'): Promise<GatewayCaller> {
  const tenant = await createBenchTenant(bench.database, running.cfg, 'admin');
  const auth = { authorization: `Bearer ${tenant.token}` };
  const key = await post(`${running.url}/keys`, { provider: 'openai', name: 'bench', api_key: 'sk-bench-0123456789abcdef0123456789', base_url: upstreamApiRoot }, auth);
  if (key.status !== 201) throw new Error(`POST /keys answered ${key.status}: ${key.body.slice(0, 300)}`);
  const apiKey = await post(`${running.url}/api-keys`, { name: 'bench' }, auth);
  if (apiKey.status !== 201) throw new Error(`POST /api-keys answered ${apiKey.status}: ${apiKey.body.slice(0, 300)}`);
  return { orgId: tenant.orgId, userId: tenant.userId, accessToken: tenant.token, gatewayKey: JSON.parse(apiKey.body).key, model: `bench/${upstreamModel}` };
}

/** Whether the providers function already serves the gateway routes (another issue builds them). */
export async function gatewayReady(running: RunningProviders): Promise<boolean> {
  const doc = await get(`${running.url}/openapi.json`);
  if (doc.status !== 200) return false;
  const paths = JSON.parse(doc.body).paths ?? {};
  return Boolean(paths['/v1/chat/completions'] && paths['/keys'] && paths['/api-keys']);
}
