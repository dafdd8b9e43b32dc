import { describe, expect, it } from 'vitest';
import { createApp } from '../../../functions/shared/http/index.js';
import { lazy } from '../../../functions/shared/services.js';
import { pgFromUrl } from '../../../functions/shared/db/pg.js';
import { call, testKernel } from '../../support/app.js';

describe('lazy instance services', () => {
  it('builds once, and retries after a failed attempt instead of caching the failure', async () => {
    let attempts = 0;
    const services = lazy(async () => {
      attempts++;
      if (attempts === 1) throw new Error('database not reachable yet');
      return { value: attempts, close: async () => {} };
    });
    await expect(services.get()).rejects.toThrow('database not reachable yet');
    expect(await services.get()).toMatchObject({ value: 2 });
    expect(await services.get()).toMatchObject({ value: 2 });
    expect(attempts).toBe(2);
  });

  it('an app whose services failed to start recovers on a later request', async () => {
    const database = pgFromUrl('postgres://postgres@127.0.0.1:1/none', { max: 1 });
    let attempts = 0;
    const services = lazy(async () => {
      attempts++;
      if (attempts === 1) throw new Error('boot failure');
      return testKernel(database);
    });
    const app = createApp({ name: 'lazy-test', services: services.get });
    app.get('/ping', (c) => c.json({ ok: true }));
    expect((await call(app, 'GET', '/ping')).status).toBe(500);
    expect((await call(app, 'GET', '/ping')).json).toEqual({ ok: true });
    expect(attempts).toBe(2);
    await database.close();
  });
});
