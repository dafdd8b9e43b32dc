import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The framework's real entry, the one Cloud Functions starts (its ErrorHandler and signal handlers included). */
const FRAMEWORK_MAIN = join(ROOT, 'node_modules', '@google-cloud', 'functions-framework', 'build', 'src', 'main.js');

export interface FrameworkProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** A port free on 127.0.0.1 right now, for a child process that takes a port argument. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts functions-framework's main.js on a TypeScript source (through tsx) and waits until it answers. */
export async function startFramework(source: string, target: string, env: NodeJS.ProcessEnv = {}): Promise<FrameworkProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', FRAMEWORK_MAIN, `--target=${target}`, `--source=${join(ROOT, source)}`, `--port=${port}`], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`framework exited with ${child.exitCode}:\n${output}`);
    if (output.includes('Serving function')) return { url, child, output: () => output, exited };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`framework did not start:\n${output}`);
}
