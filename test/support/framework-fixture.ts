import { writeFileSync } from 'node:fs';
import { Hono } from 'hono';
import { serveFunction } from '../../functions/shared/http/serve.js';

/**
 * A function served the production way, for tests that start functions-framework's real main.js on it
 * (test/shared/http/framework-process.error.test.ts): /slow answers after FIXTURE_SLOW_MS, /throw-later
 * throws from a timer, outside any request's promise chain, /floating leaves a promise nobody awaits
 * to reject after its answer, and shutdown writes FIXTURE_MARKER (and never ends with FIXTURE_HANG).
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
app.get('/floating', (c) => {
  void new Promise((_, reject) => setTimeout(() => reject(new Error('background work failed')), 20));
  return c.json({ answered: true });
});
serveFunction('frameworkFixture', app, async () => {
  writeFileSync(process.env.FIXTURE_MARKER!, 'shutdown ran');
  // A shutdown that cannot finish (a pool closing against an unreachable database).
  if (process.env.FIXTURE_HANG) await new Promise(() => {});
});
