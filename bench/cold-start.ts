/**
 * Cold start of each function bundle against a bare functions-framework hello world, in the same run:
 * time from spawning `functions-framework --target=<fn> --source=dist/<fn>` to the first 200 on /healthz.
 * Runs are interleaved (every round starts each target once, in a shuffled order) so load from other
 * processes on the machine spreads over all targets alike; the table reports medians and the ratio to
 * the hello world, plus each bundle's size on disk and as the zipped source archive.
 *
 *   npx tsx bench/cold-start.ts [--runs=15]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFunction, folderBytes, functionNames, zipFolder } from '../scripts/build.js';
import { freePort } from './lib/net.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const FRAMEWORK_BIN = join(ROOT, 'node_modules', '@google-cloud', 'functions-framework', 'build', 'src', 'main.js');
const RUNS = Math.max(10, Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 11));
const TIMEOUT_MS = 60_000;

interface Target {
  name: string;
  target: string;
  source: string;
  bytes: number;
  zipBytes: number;
}

/** The baseline: the smallest function functions-framework can serve, as an ESM module like ours. */
function helloWorld(dir: string): Target {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'hello', type: 'module', main: 'index.js' }));
  writeFileSync(
    join(dir, 'index.js'),
    "import * as ff from '@google-cloud/functions-framework';\nff.http('hello', (req, res) => { res.status(200).json({ status: 'ok' }); });\n",
  );
  return { name: 'hello world', target: 'hello', source: dir, bytes: folderBytes(dir), zipBytes: zipBytes(dir) };
}

function zipBytes(dir: string): number {
  const tmp = mkdtempSync(join(tmpdir(), 'lattice-zip-'));
  try {
    const file = join(tmp, 'a.zip');
    zipFolder(dir, file);
    return folderBytes(tmp);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function coldStart(t: Target, pgliteDir: string): Promise<number> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'error', PGLITE_DIR: pgliteDir };
  delete env.DATABASE_URL;
  delete env.INSTANCE_CONNECTION_NAME;
  const started = performance.now();
  const child = spawn(process.execPath, [FRAMEWORK_BIN, `--target=${t.target}`, `--source=${t.source}`, `--port=${port}`], { env, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    while (performance.now() - started < TIMEOUT_MS) {
      if (child.exitCode !== null) throw new Error(`${t.name} exited with ${child.exitCode}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        await res.arrayBuffer();
        if (res.status === 200) return performance.now() - started;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    throw new Error(`${t.name}: no 200 on /healthz within ${TIMEOUT_MS} ms`);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

function shuffle<T>(xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'lattice-cold-start-'));
  // The baseline lives under the repository so it resolves functions-framework from node_modules, as the bundles do.
  const helloDir = join(ROOT, 'dist', '.bench-hello');
  try {
    const targets: Target[] = [helloWorld(helloDir)];
    for (const fn of functionNames()) {
      const b = await buildFunction(fn);
      targets.push({ name: fn, target: fn, source: b.dir, bytes: b.bytes, zipBytes: zipBytes(b.dir) });
    }
    const times = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    console.log(`cold start: ${RUNS} interleaved runs of ${targets.length} targets…`);
    for (let round = 0; round < RUNS; round++) {
      for (const t of shuffle(targets)) times.get(t.name)!.push(await coldStart(t, join(work, `${t.target}-${round}`)));
    }
    const base = median(times.get('hello world')!);
    const rows = targets.map((t) => {
      const xs = times.get(t.name)!;
      const m = median(xs);
      return [t.name, (t.bytes / 1024).toFixed(1), (t.zipBytes / 1024).toFixed(1), m.toFixed(0), Math.min(...xs).toFixed(0), Math.max(...xs).toFixed(0), (m / base).toFixed(2)];
    });
    const header = ['target', 'bundle KiB', 'zip KiB', 'median ms', 'min ms', 'max ms', 'x hello'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}`);
    console.log('\nprocess start → first 200 on /healthz; sizes exclude the external packages npm installs at deploy.');
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(helloDir, { recursive: true, force: true });
  }
}

await main();
