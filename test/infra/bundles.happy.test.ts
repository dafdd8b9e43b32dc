import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunction, functionNames, type BundleResult } from '../../scripts/build.js';
import { ROOT } from '../support/infra/hcl.js';
import { freePort } from '../support/framework-process.js';

/**
 * The deployable bundles: `npm run build` output, started the way Cloud Functions starts it
 * (functions-framework --target=<fn> --source=dist/<fn>), answers /healthz with no database configured.
 */
const FRAMEWORK_BIN = join(ROOT, 'node_modules', '@google-cloud', 'functions-framework', 'build', 'src', 'main.js');
const LAZY_CLIENTS = ['@google-cloud/firestore', '@google-cloud/bigquery', '@google-cloud/kms', '@google-cloud/cloud-sql-connector'];

const bundles = new Map<string, BundleResult>();
const children: ChildProcess[] = [];
let dataDir: string;

beforeAll(async () => {
  for (const fn of functionNames()) bundles.set(fn, await buildFunction(fn));
  dataDir = mkdtempSync(join(tmpdir(), 'lattice-bundle-'));
}, 120_000);

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** Starts a bundle under functions-framework and waits for /healthz; a crash fails with its output. */
async function serve(fn: string): Promise<{ status: number; body: any }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', PGLITE_DIR: join(dataDir, fn) };
  delete env.DATABASE_URL;
  delete env.INSTANCE_CONNECTION_NAME;
  const child = spawn(process.execPath, [FRAMEWORK_BIN, `--target=${fn}`, `--source=${join(ROOT, 'dist', fn)}`, `--port=${port}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${fn} exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      const body = await res.json();
      child.kill('SIGTERM');
      return { status: res.status, body };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  child.kill('SIGKILL');
  throw new Error(`${fn} did not answer /healthz within 60 s:\n${output}`);
}

/** Outputs loaded when the entry is imported (static imports, transitively), not behind import(). */
function eagerOutputs(meta: Metafile, entry: string): { files: Set<string>; externals: Set<string> } {
  const files = new Set<string>();
  const externals = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const imp of meta.outputs[file]?.imports ?? []) {
      if (imp.kind !== 'import-statement') continue;
      if (imp.external) externals.add(imp.path);
      else visit(imp.path);
    }
  };
  visit(entry);
  return { files, externals };
}

describe('function bundles', () => {
  it('bundles the four functions', () => {
    expect([...bundles.keys()]).toEqual(['auth', 'jobs', 'projects', 'providers']);
  });

  it.each(['auth', 'jobs', 'projects', 'providers'])('%s loads under functions-framework and serves /healthz without a database', async (fn) => {
    const { status, body } = await serve(fn);
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'ok', function: fn });
  }, 90_000);

  it.each(['auth', 'jobs', 'projects', 'providers'])('%s refuses to start in production with a weak secret, naming the variable', async (fn) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'production',
      INSTANCE_CONNECTION_NAME: 'p:europe-west1:i',
      SESSION_STORE: 'firestore',
      EVENT_SINK: 'bigquery',
      KEY_ENCRYPTOR: 'kms',
      KMS_KEY_NAME: 'projects/p/locations/l/keyRings/r/cryptoKeys/k',
      GOOGLE_CLOUD_PROJECT: 'p',
      JOBS_AUDIENCE: 'https://jobs.example',
      JOBS_SERVICE_ACCOUNT: 'jobs@p.iam.gserviceaccount.com',
      JWT_SECRETS: 'k1:too-short',
    };
    delete env.DATABASE_URL;
    const child = spawn(process.execPath, [FRAMEWORK_BIN, `--target=${fn}`, `--source=${join(ROOT, 'dist', fn)}`, `--port=${await freePort()}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(output).toMatch(/refusing to start: invalid configuration.*JWT_SECRETS: secret for kid \\"k1\\" is shorter than 32/);
    expect(output).not.toContain('too-short');
  }, 90_000);

  // What each function needs beyond the kernel (config.ts FUNCTION_REQUIREMENTS) is checked when the
  // bundle starts, not at its first request: one variable missing each, named in the refusal.
  it.each([
    ['jobs', 'ALERT_WEBHOOK_SECRET'],
    ['providers', 'PROVIDER_KEY_OPENAI'],
    ['auth', 'SMTP_PASSWORD'],
    ['projects', 'JWT_SECRETS'],
  ])('%s refuses to start in production without %s, naming it', async (fn, missing) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'production',
      INSTANCE_CONNECTION_NAME: 'p:europe-west1:i',
      SESSION_STORE: 'firestore',
      EVENT_SINK: 'bigquery',
      KEY_ENCRYPTOR: 'kms',
      KMS_KEY_NAME: 'projects/p/locations/l/keyRings/r/cryptoKeys/k',
      GOOGLE_CLOUD_PROJECT: 'p',
      JOBS_AUDIENCE: 'https://jobs.example',
      JOBS_SERVICE_ACCOUNT: 'jobs@p.iam.gserviceaccount.com',
      JWT_SECRETS: `k1:${'j'.repeat(40)}`,
      ALERT_WEBHOOK_SECRET: 'w'.repeat(40),
      PLATFORM_PROVIDERS: 'openai',
      PROVIDER_KEY_OPENAI: 'sk-platform-test',
      MAILER: 'smtp',
      SMTP_HOST: 'smtp.example.com',
      SMTP_USER: 'mailer',
      SMTP_PASSWORD: 'smtp-password-test',
      MAIL_FROM: 'no-reply@example.com',
      PUBLIC_BASE_URL: 'https://app.example.com',
      ARTIFACT_STORE: 'gcs',
      ARTIFACT_BUCKET: 'lattice-artifacts-test',
    };
    delete env[missing];
    delete env.DATABASE_URL;
    const child = spawn(process.execPath, [FRAMEWORK_BIN, `--target=${fn}`, `--source=${join(ROOT, 'dist', fn)}`, `--port=${await freePort()}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, output).toBe(1);
    expect(output).toMatch(new RegExp(`refusing to start: invalid configuration.*${missing}: required`));
  }, 90_000);

  it('lists in each package.json exactly the external packages the bundle imports, functions-framework included', () => {
    for (const [fn, bundle] of bundles) {
      const manifest = JSON.parse(readFileSync(join(bundle.dir, 'package.json'), 'utf8'));
      expect(manifest.type, fn).toBe('module');
      expect(manifest.main, fn).toBe('index.js');
      const deps = Object.keys(manifest.dependencies);
      expect(deps, fn).toContain('@google-cloud/functions-framework');
      expect(deps, fn).not.toContain('@electric-sql/pglite');
      const imported = new Set(Object.values(bundle.meta.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path)));
      for (const dep of deps) expect([...imported].some((p) => p === dep || p.startsWith(`${dep}/`)), `${fn}: ${dep} is not imported`).toBe(true);
      for (const [dep, version] of Object.entries<string>(manifest.dependencies)) {
        expect(version, dep).toBe(JSON.parse(readFileSync(join(ROOT, 'node_modules', dep, 'package.json'), 'utf8')).version);
      }
    }
  });

  it('contains only what the function imports: no other function\'s routes, no dev server, no migrations, GCP clients loaded lazily', () => {
    for (const [fn, bundle] of bundles) {
      const inputs = Object.keys(bundle.meta.inputs);
      const others = functionNames().filter((other) => other !== fn);
      // Shared service code may be imported across functions (jobs runs providers' maintenance); another
      // function's HTTP surface (entry, app, routes) never is.
      for (const other of others) {
        const surface = inputs.filter((i) => i === `functions/${other}/index.ts` || i === `functions/${other}/app.ts` || i.startsWith(`functions/${other}/routes/`));
        expect(surface, `${fn} bundles the HTTP surface of ${other}`).toEqual([]);
      }
      expect(inputs.filter((i) => i.startsWith('functions/dev/')), fn).toEqual([]);
      expect(inputs.some((i) => i.startsWith(`functions/${fn}/`))).toBe(true);
      expect(inputs.filter((i) => i.startsWith('drizzle/migrations/')), fn).toEqual([]);
      expect(inputs.filter((i) => /node_modules\/@google-cloud\//.test(i)), fn).toEqual([]);
      const eager = eagerOutputs(bundle.meta, `dist/${fn}/index.js`);
      for (const client of LAZY_CLIENTS) expect([...eager.externals], `${fn} loads ${client} at start`).not.toContain(client);
      expect([...eager.externals]).toContain('@google-cloud/functions-framework');
    }
  });
});
