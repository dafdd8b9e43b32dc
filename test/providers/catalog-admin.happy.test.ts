import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAiUpstream } from '../fakes/openai-upstream.js';
import type { FakeUpstream } from '../fakes/upstream-core.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant, type TestTenant } from '../support/tenants.js';
import { pointCatalog, requestLogs, settled, startGateway, type Gateway } from '../support/gateway.js';

const { database } = await createTestDatabase();
let fake: FakeUpstream;
let gw: Gateway;
let platformAdmin: TestTenant;
let orgOwner: TestTenant;
let caller: TestTenant;

beforeAll(async () => {
  fake = await startOpenAiUpstream();
  await pointCatalog(database, 'openai', fake.baseUrl);
  gw = await startGateway(database, { platformKeys: { openai: 'sk-platform' } });
  platformAdmin = await createTenant(database, { role: 'member', platformAdmin: true });
  orgOwner = await createTenant(database, { role: 'owner' });
  caller = await createTenant(database, { role: 'member' });
});
afterAll(async () => {
  await gw.close();
  await fake.close();
});

const api = (who: TestTenant, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${gw.url}${path}`, {
    method, headers: { authorization: `Bearer ${who.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

const putPrice = (who: TestTenant, model: string, input: number, output: number, extra: Record<string, unknown> = {}) =>
  api(who, 'PUT', `/providers/openai/models/${model}`, { input_price_micros_per_mtok: input, output_price_micros_per_mtok: output, ...extra });

/** One call through the openai client; returns its usage and the cost its request log recorded. */
async function billedCall(model: string) {
  const { data, response } = await gw.client(caller.token).chat.completions
    .create({ model, messages: [{ role: 'user', content: 'price check please' }], max_tokens: 20 })
    .withResponse();
  const requestId = response.headers.get('x-gateway-request-id');
  await settled(gw, database, caller.orgId);
  const log = (await requestLogs(database, caller.orgId)).find((l) => l.request_id === requestId);
  return { usage: data.usage!, cost: log.cost_micros as number };
}

const expectedCost = (u: { prompt_tokens: number; completion_tokens: number }, input: number, output: number) =>
  Math.ceil((u.prompt_tokens * input + u.completion_tokens * output) / 1_000_000);

describe('catalog editing by platform admins', () => {
  it('a platform admin sets a model price (integer micro-dollars per million tokens) and the next call is billed at it', async () => {
    const first = await putPrice(platformAdmin, 'gpt-4o-mini', 2_000_000, 9_000_000);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ provider_id: 'openai', model: 'gpt-4o-mini', input_price_micros_per_mtok: 2_000_000, output_price_micros_per_mtok: 9_000_000 });
    const a = await billedCall('openai/gpt-4o-mini');
    expect(a.cost).toBe(expectedCost(a.usage, 2_000_000, 9_000_000));

    // A second change applies to the very next call: no cached price.
    expect((await putPrice(platformAdmin, 'gpt-4o-mini', 30_000_000, 120_000_000)).status).toBe(200);
    const b = await billedCall('openai/gpt-4o-mini');
    expect(b.usage).toEqual(a.usage);
    expect(b.cost).toBe(expectedCost(b.usage, 30_000_000, 120_000_000));
    expect(b.cost).toBeGreaterThan(a.cost);

    const catalog = (await (await api(caller, 'GET', '/providers')).json()) as any;
    const model = catalog.items.find((p: any) => p.id === 'openai').models.find((m: any) => m.model === 'gpt-4o-mini');
    expect(model).toMatchObject({ input_price_micros_per_mtok: 30_000_000, output_price_micros_per_mtok: 120_000_000 });
  });

  it('the edit is audited with the platform admin as actor', async () => {
    expect((await putPrice(platformAdmin, 'gpt-4o-mini', 1_000_000, 4_000_000)).status).toBe(200);
    const { rows } = await database.pool!.query(
      `SELECT actor_id FROM audits.audit_log WHERE table_schema = 'providers' AND table_name = 'provider_models' ORDER BY occurred_at DESC LIMIT 1`);
    expect(rows[0].actor_id).toBe(platformAdmin.userId);
  });

  it('a new model added by a platform admin is listed and callable at its price; a disabled one is not', async () => {
    expect((await putPrice(platformAdmin, 'gpt-fresh', 500_000, 700_000)).status).toBe(200);
    const ids: string[] = [];
    for await (const m of gw.client(caller.token).models.list()) ids.push(m.id);
    expect(ids).toContain('openai/gpt-fresh');
    const c = await billedCall('openai/gpt-fresh');
    expect(fake.requests.at(-1)!.body.model).toBe('gpt-fresh');
    expect(c.cost).toBe(expectedCost(c.usage, 500_000, 700_000));

    expect((await putPrice(platformAdmin, 'gpt-fresh', 500_000, 700_000, { enabled: false })).status).toBe(200);
    const err = await gw.client(caller.token).chat.completions.create({ model: 'openai/gpt-fresh', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    expect(err.status).toBe(404);
  });

  it('prices must be non-negative integers (422)', async () => {
    expect((await putPrice(platformAdmin, 'gpt-4o-mini', 1.5, 2)).status).toBe(422);
    expect((await putPrice(platformAdmin, 'gpt-4o-mini', -1, 2)).status).toBe(422);
    expect((await putPrice(platformAdmin, 'gpt-4o-mini', 1, '2' as unknown as number)).status).toBe(422);
  });

  it('a platform admin edits a provider under If-Match (428 without, 412 when stale)', async () => {
    const list = (await (await api(platformAdmin, 'GET', '/providers')).json()) as any;
    const version = list.items.find((p: any) => p.id === 'openai').version as number;
    expect((await api(platformAdmin, 'PATCH', '/providers/openai', { display_name: 'OpenAI (fake)' })).status).toBe(428);
    expect((await api(platformAdmin, 'PATCH', '/providers/openai', { display_name: 'OpenAI (fake)' }, { 'if-match': `"${version + 3}"` })).status).toBe(412);
    const ok = await api(platformAdmin, 'PATCH', '/providers/openai', { display_name: 'OpenAI (fake)' }, { 'if-match': `"${version}"` });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toBe(`"${version + 1}"`);
    expect(await ok.json()).toMatchObject({ id: 'openai', display_name: 'OpenAI (fake)', version: version + 1 });
  });

  it('anyone else — an org owner, a member, or a platform admin\'s gateway API key — gets 403 and nothing changes', async () => {
    const before = (await database.pool!.query(`SELECT input_price_micros_per_mtok, version FROM providers.provider_models WHERE provider_id = 'openai' AND model = 'gpt-4o-mini'`)).rows[0];
    for (const who of [orgOwner, caller]) {
      const res = await putPrice(who, 'gpt-4o-mini', 1, 1);
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect((await putPrice(who, 'gpt-free-lunch', 0, 0)).status).toBe(403);
      expect((await api(who, 'PATCH', '/providers/openai', { enabled: false }, { 'if-match': '"1"' })).status).toBe(403);
    }
    const key = (await (await api(platformAdmin, 'POST', '/api-keys', { name: 'ci' })).json()) as any;
    const viaKey = await fetch(`${gw.url}/providers/openai/models/gpt-4o-mini`, {
      method: 'PUT', headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input_price_micros_per_mtok: 1, output_price_micros_per_mtok: 1 }),
    });
    expect(viaKey.status).toBe(403);
    const after = (await database.pool!.query(`SELECT input_price_micros_per_mtok, version FROM providers.provider_models WHERE provider_id = 'openai' AND model = 'gpt-4o-mini'`)).rows[0];
    expect(after).toEqual(before);
    const free = await database.pool!.query(`SELECT 1 FROM providers.provider_models WHERE model = 'gpt-free-lunch'`);
    expect(free.rowCount).toBe(0);
  });
});

describe('GET /providers/health', () => {
  it('shows each provider\'s current status and its most recent checks, newest first', async () => {
    await database.pool!.query(`INSERT INTO providers.provider_health (provider_id, status, latency_ms, last_error, checked_at) VALUES ('anthropic', 'degraded', 840, 'slow answers', now())
      ON CONFLICT (provider_id) DO UPDATE SET status = EXCLUDED.status, latency_ms = EXCLUDED.latency_ms, last_error = EXCLUDED.last_error, checked_at = EXCLUDED.checked_at`);
    await database.pool!.query(`INSERT INTO providers.provider_health_checks (provider_id, status, latency_ms, error, checked_at)
      SELECT 'anthropic', CASE WHEN n = 12 THEN 'degraded' ELSE 'healthy' END, 100 + n, NULL, now() - make_interval(mins => 12 - n) FROM generate_series(1, 12) n`);
    const res = await api(caller, 'GET', '/providers/health');
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    const anthropic = body.items.find((i: any) => i.provider_id === 'anthropic');
    expect(anthropic).toMatchObject({ status: 'degraded', latency_ms: 840, last_error: 'slow answers' });
    expect(anthropic.recent_checks).toHaveLength(10);
    expect(anthropic.recent_checks[0]).toMatchObject({ status: 'degraded', latency_ms: 112 });
    const times = anthropic.recent_checks.map((c: any) => Date.parse(c.checked_at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });
});
