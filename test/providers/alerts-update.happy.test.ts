import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildProvidersApp } from '../../functions/providers/app.js';
import { buildProvidersServices } from '../../functions/providers/services.js';
import { call, testKernel } from '../support/app.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant, type TestTenant } from '../support/tenants.js';

const { database } = await createTestDatabase();
let app: ReturnType<typeof buildProvidersApp>;
let owner: TestTenant;
let admin: TestTenant;
let colleague: TestTenant;
let stranger: TestTenant;

beforeAll(async () => {
  const services = await buildProvidersServices(testKernel(database), { platformKeys: {} });
  app = buildProvidersApp(async () => services);
  owner = await createTenant(database, { role: 'member' });
  admin = await createTenant(database, { role: 'admin', orgId: owner.orgId });
  colleague = await createTenant(database, { role: 'member', orgId: owner.orgId });
  stranger = await createTenant(database, { role: 'admin' });
});

const HOOK = 'http://127.0.0.1:9/hook';

async function newAlert(who: TestTenant, body: Record<string, unknown> = {}) {
  const res = await call(app, 'POST', '/alerts', { token: who.token, body: { threshold_percent: 80, period: 'daily', metric: 'cost', channel: 'log', ...body } });
  expect(res.status).toBe(201);
  expect(res.headers.get('etag')).toBe(`"${res.json.version}"`);
  return res.json as { id: string; version: number };
}

const patch = (who: TestTenant, id: string, body: unknown, ifMatch?: string) =>
  call(app, 'PATCH', `/alerts/${id}`, { token: who.token, body, headers: ifMatch === undefined ? {} : { 'if-match': ifMatch } });

describe('PATCH /alerts/:id', () => {
  it('updates under If-Match, bumps the version and answers the new ETag', async () => {
    const a = await newAlert(owner);
    const res = await patch(owner, a.id, { threshold_percent: 90, enabled: false }, `"${a.version}"`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: a.id, threshold_percent: 90, enabled: false, metric: 'cost', channel: 'log', version: a.version + 1 });
    expect(res.headers.get('etag')).toBe(`"${a.version + 1}"`);
    const read = await call(app, 'GET', `/alerts/${a.id}`, { token: owner.token });
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe(`"${a.version + 1}"`);
    expect(read.json).toMatchObject({ threshold_percent: 90, enabled: false });
  });

  it('switches channels keeping the webhook/target rule: webhook needs a target, log drops it', async () => {
    const a = await newAlert(owner);
    const missing = await patch(owner, a.id, { channel: 'webhook' }, `"${a.version}"`);
    expect(missing.status).toBe(400);
    expect(missing.json.type).toMatch(/missing-target$/);
    const hooked = await patch(owner, a.id, { channel: 'webhook', target: HOOK }, `"${a.version}"`);
    expect(hooked.status).toBe(200);
    expect(hooked.json).toMatchObject({ channel: 'webhook', target: HOOK });
    const logged = await patch(owner, a.id, { channel: 'log' }, hooked.headers.get('etag')!);
    expect(logged.status).toBe(200);
    expect(logged.json).toMatchObject({ channel: 'log', target: null });
  });

  it('changing what the alert measures re-arms it for the current period; pausing does not', async () => {
    const a = await newAlert(owner);
    const today = new Date().toISOString().slice(0, 10);
    await database.pool!.query(`UPDATE providers.cost_alerts SET last_fired_period_start = $2, last_fired_at = now() WHERE id = $1`, [a.id, today]);
    const paused = await patch(owner, a.id, { enabled: false }, `"${a.version}"`);
    expect(paused.json.last_fired_period_start).toBe(today);
    const changed = await patch(owner, a.id, { threshold_percent: 95, enabled: true }, paused.headers.get('etag')!);
    expect(changed.json.last_fired_period_start).toBeNull();
  });

  it('428 without If-Match, 412 on a stale or malformed one, and the row is unchanged', async () => {
    const a = await newAlert(owner);
    const none = await patch(owner, a.id, { threshold_percent: 10 });
    expect(none.status).toBe(428);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    const stale = await patch(owner, a.id, { threshold_percent: 10 }, `"${a.version + 5}"`);
    expect(stale.status).toBe(412);
    const garbage = await patch(owner, a.id, { threshold_percent: 10 }, 'yesterday');
    expect(garbage.status).toBe(412);
    const read = await call(app, 'GET', `/alerts/${a.id}`, { token: owner.token });
    expect(read.json).toMatchObject({ threshold_percent: 80, version: a.version });
  });

  it('two writers with the same ETag: exactly one wins, the other gets 412', async () => {
    const a = await newAlert(owner);
    const results = await Promise.all([10, 20].map((t) => patch(owner, a.id, { threshold_percent: t }, `"${a.version}"`)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 412]);
  });

  it('validates the body: empty or out-of-range → 422, unknown id → 404', async () => {
    const a = await newAlert(owner);
    expect((await patch(owner, a.id, {}, `"${a.version}"`)).status).toBe(422);
    expect((await patch(owner, a.id, { threshold_percent: 0 }, `"${a.version}"`)).status).toBe(422);
    expect((await patch(owner, randomUUID(), { threshold_percent: 50 }, '"1"')).status).toBe(404);
  });

  it("another user's alert answers 404 (same org, another org, even to an admin), and is not changed", async () => {
    const a = await newAlert(owner);
    for (const who of [colleague, admin, stranger]) {
      const res = await patch(who, a.id, { threshold_percent: 10 }, `"${a.version}"`);
      expect(res.status).toBe(404);
      expect((await call(app, 'GET', `/alerts/${a.id}`, { token: who.token })).status).toBe(404);
    }
    const { rows } = await database.pool!.query(`SELECT threshold_percent, version FROM providers.cost_alerts WHERE id = $1`, [a.id]);
    expect(rows[0]).toEqual({ threshold_percent: 80, version: a.version });
  });

  it('an org-wide alert is edited by org admins only; members and other orgs get 404', async () => {
    const a = await newAlert(admin, { scope: 'org' });
    expect((await patch(owner, a.id, { threshold_percent: 50 }, `"${a.version}"`)).status).toBe(404);
    expect((await patch(stranger, a.id, { threshold_percent: 50 }, `"${a.version}"`)).status).toBe(404);
    const ok = await patch(admin, a.id, { threshold_percent: 50 }, `"${a.version}"`);
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ scope: 'org', threshold_percent: 50 });
  });

  it('a gateway API key cannot edit alerts', async () => {
    const a = await newAlert(owner);
    const key = await call(app, 'POST', '/api-keys', { token: owner.token, body: { name: 'ci' } });
    expect(key.status).toBe(201);
    const res = await call(app, 'PATCH', `/alerts/${a.id}`, { token: key.json.key, body: { threshold_percent: 10 }, headers: { 'if-match': `"${a.version}"` } });
    expect(res.status).toBe(403);
  });
});
