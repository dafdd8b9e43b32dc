import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFramework, type FrameworkProcess } from '../../support/framework-process.js';

/** The function process as Cloud Functions runs it: functions-framework's own main.js, signals and all. */
const dir = mkdtempSync(join(tmpdir(), 'lattice-ff-'));
const started: FrameworkProcess[] = [];
afterAll(() => {
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function start(name: string, env: Record<string, string> = {}): Promise<FrameworkProcess & { marker: string }> {
  const marker = join(dir, name);
  const p = await startFramework('test/support/framework-fixture.ts', 'frameworkFixture', { FIXTURE_MARKER: marker, FIXTURE_SLOW_MS: '300', ...env });
  started.push(p);
  return { ...p, marker };
}

describe('function process under functions-framework main.js', () => {
  it('SIGTERM drains: the in-flight request completes and onShutdown runs before the exit', async () => {
    const p = await start('sigterm');
    const slow = fetch(`${p.url}/slow`);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the request is admitted and waiting
    p.child.kill('SIGTERM');
    const res = await slow;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ finished: true });
    expect(await p.exited).toBe(0);
    expect(existsSync(p.marker) && readFileSync(p.marker, 'utf8')).toBe('shutdown ran');
  }, 30_000);

  it("an exception thrown outside a request's promise chain answers that request 500; the others finish, new ones get 503, onShutdown runs, the instance exits 1 (nodejs.org/api/domain.html: don't ignore errors)", async () => {
    const p = await start('uncaught');
    const slow = fetch(`${p.url}/slow`);
    await new Promise((resolve) => setTimeout(resolve, 50)); // admitted before the crash
    const thrown = await fetch(`${p.url}/throw-later`);
    expect(thrown.status).toBe(500);
    expect(await thrown.json()).toMatchObject({ status: 500, type: expect.stringMatching(/internal$/) });
    const turnedAway = await fetch(`${p.url}/slow`).catch(() => undefined);
    // Refused while draining (or, if the drain already ended, the connection is gone): never served.
    if (turnedAway) expect(turnedAway.status).toBe(503);
    const res = await slow;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ finished: true });
    expect(await p.exited).toBe(1);
    expect(existsSync(p.marker) && readFileSync(p.marker, 'utf8')).toBe('shutdown ran');
  }, 30_000);
  it('a rejected promise nobody awaited is logged and the instance carries on (as under the framework\'s domain)', async () => {
    const p = await start('floating');
    expect((await fetch(`${p.url}/floating`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(p.child.exitCode).toBeNull();
    expect((await fetch(`${p.url}/slow`)).status).toBe(200);
    expect(p.output()).toMatch(/unhandled promise rejection/);
  }, 30_000);

  it('after a crash the instance exits within Cloud Run\'s 10 s even when onShutdown never ends', async () => {
    const p = await start('hang', { FIXTURE_HANG: '1' });
    expect((await fetch(`${p.url}/throw-later`)).status).toBe(500);
    const code = await Promise.race([p.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 15_000))]);
    expect(code).toBe(1);
  }, 30_000);
});
