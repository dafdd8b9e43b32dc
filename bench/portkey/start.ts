import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../lib/net.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = join(here, '..', '..');
export const PORTKEY_ENTRY = join(ROOT, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
export const LOOPBACK_PRELOAD = join(here, 'loopback.cjs');

export interface Portkey {
  url: string;
  port: number;
  pid: number;
  /** Headers that route a request through Portkey's OpenAI provider to a custom upstream. */
  routeHeaders(upstreamApiRoot: string): Record<string, string>;
  close(): Promise<void>;
}

/**
 * Starts the open-source Portkey gateway (the devDependency) as a child process, forced onto
 * 127.0.0.1 by the preload, and waits until it answers HTTP.
 */
export async function startPortkey(options: { timeoutMs?: number } = {}): Promise<Portkey> {
  if (!existsSync(PORTKEY_ENTRY)) throw new Error(`Portkey is not installed (${PORTKEY_ENTRY}); run npm ci`);
  const port = await freePort();
  const child = spawn(process.execPath, ['--require', LOOPBACK_PRELOAD, PORTKEY_ENTRY, `--port=${port}`, '--headless'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let output = '';
  child.stdout.on('data', (d) => (output = (output + d).slice(-4000)));
  child.stderr.on('data', (d) => (output = (output + d).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Portkey exited with ${child.exitCode}: ${output}`);
    try {
      await fetch(`${url}/`, { signal: AbortSignal.timeout(500) });
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`Portkey did not answer on ${url}: ${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    port,
    pid: child.pid!,
    routeHeaders: (upstreamApiRoot) => ({ 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upstreamApiRoot }),
    async close() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
