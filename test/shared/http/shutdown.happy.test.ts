import { getTestServer } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../functions/shared/http/index.js';
import { inFlightCount, resetDrain } from '../../../functions/shared/http/drain.js';
import { serveFunction, shutdown } from '../../../functions/shared/http/serve.js';
import { pgFromUrl } from '../../../functions/shared/db/pg.js';
import { listen, testKernel } from '../../support/app.js';

// No database is touched: a pool that never connects is enough for the app's services.
const database = pgFromUrl('postgres://postgres@127.0.0.1:1/none', { max: 1 });
let release: () => void = () => {};
const app = createApp({ name: 'shutdown-test', services: async () => testKernel(database) });
app.get('/slow', async (c) => {
  await new Promise<void>((resolve) => (release = resolve));
  return c.json({ finished: true });
});
serveFunction('shutdownTest', app);

let server: Awaited<ReturnType<typeof listen>>;
beforeAll(async () => {
  server = await listen(getTestServer('shutdownTest'));
});
afterAll(async () => {
  resetDrain();
  await server.close();
  await database.close();
});

describe('graceful shutdown (SIGTERM sequence)', () => {
  it('refuses new requests with 503, lets in-flight ones finish, then closes', async () => {
    const slow = fetch(`${server.url}/slow`);
    while (inFlightCount() === 0) await new Promise((r) => setTimeout(r, 10));

    const events: string[] = [];
    const closing = shutdown('shutdownTest', async () => {
      events.push('closed');
    }, 5_000);

    const refused = await fetch(`${server.url}/healthz`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { type: string }).type).toBe('urn:lattice-lock:problem:shutting-down');
    expect(events).toEqual([]); // the slow request still runs, so nothing is closed yet

    events.push('released');
    release();
    const done = await slow;
    expect(done.status).toBe(200);
    expect(await done.json()).toEqual({ finished: true });
    await closing;
    expect(events).toEqual(['released', 'closed']);
  });
});
