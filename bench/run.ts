import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench [-- name…]`: every benchmark in sequence, each in a fresh process (no benchmark
 * inherits another's JIT state, pools or garbage), printing its own Markdown tables. Benchmarks
 * owned by other issues run when their file exists. A failing benchmark is reported and the rest
 * still run; the exit code says whether all passed.
 */
const here = dirname(fileURLToPath(import.meta.url));
const BENCHMARKS = [
  { file: 'gateway-overhead.ts', title: '1. Gateway overhead: direct vs ours vs Portkey' },
  { file: 'gateway-quota-race.ts', title: '2. Quota race across four gateway processes' },
  { file: 'cold-start.ts', title: '3. Cold start: function bundles vs a bare functions-framework hello world' },
  { file: 'quota-path.ts', title: '4. Quota path: conditional UPDATE vs naive read-then-write' },
  { file: 'audit-outbox.ts', title: '5. Audit and outbox write cost' },
  { file: 'settle-batch.ts', title: '6. Settlement: one statement per call vs group commit' },
];

function run(file: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, file)], { cwd: join(here, '..'), stdio: 'inherit', env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'error' } });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const filter = process.argv.slice(2);
const selected = BENCHMARKS.filter((b) => filter.length === 0 || filter.some((f) => b.file.includes(f)));
const gib = (n: number) => `${(n / 2 ** 30).toFixed(1)} GiB`;
process.stdout.write(
  `# Lattice Lock Cloud benchmarks\n\n` +
    `- date: ${new Date().toISOString()}\n` +
    `- machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${gib(totalmem())} RAM (${gib(freemem())} free), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n` +
    `- node ${process.version}, ${process.platform}/${process.arch}\n` +
    `- command: npm run bench${filter.length ? ` -- ${filter.join(' ')}` : ''}\n`,
);

const outcomes: string[] = [];
let failed = 0;
for (const b of selected) {
  if (!existsSync(join(here, b.file))) {
    outcomes.push(`- ${b.file}: not present yet (skipped)`);
    continue;
  }
  process.stdout.write(`\n\n# ${b.title}\n`);
  const started = performance.now();
  const code = await run(b.file);
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  if (code !== 0) failed++;
  outcomes.push(`- ${b.file}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${secs} s`);
}
process.stdout.write(`\n\n# Summary\n\n${outcomes.join('\n')}\n`);
process.exitCode = failed ? 1 : 0;
