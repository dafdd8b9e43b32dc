import { writeFileSync } from 'node:fs';
import { Hono } from 'hono';
import { serveFunction } from '../../functions/shared/http/serve.js';

/**
 * A function served the production way, for tests that start functions-framework's real main.js on it
 * (test/shared/http/framework-process.error.test.ts): /slow answers after FIXTURE_SLOW_MS, /throw-later
 * throws from a timer, outside any request's promise chain, and shutdown writes FIXTURE_MARKER.
 */
const app = new Hono();
app.get('/slow', async (c) => {
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.FIXTURE_SLOW_MS ?? 300)));
  return c.json({ finished: true });
});
app.get('/throw-later', (c) => {
  setTimeout(() => {
    throw new Error('thrown outside the request promise chain');
  }, 10);
  return new Promise<Response>(() => {}); // never answers by itself: only the crash response can
});
serveFunction('frameworkFixture', app, async () => {
  writeFileSync(process.env.FIXTURE_MARKER!, 'shutdown ran');
});
