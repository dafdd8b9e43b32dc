import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertNotification } from '../../functions/shared/notify/index.js';
import { startOpenAiUpstream } from '../fakes/openai-upstream.js';
import type { FakeUpstream } from '../fakes/upstream-core.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant } from '../support/tenants.js';
import { pointCatalog, setLimits, settled, startGateway, type Gateway } from '../support/gateway.js';

const { database } = await createTestDatabase();
const delivered: AlertNotification[] = [];
let fake: FakeUpstream;
let gw: Gateway;

beforeAll(async () => {
  fake = await startOpenAiUpstream();
  await pointCatalog(database, 'openai', fake.baseUrl);
  gw = await startGateway(database, { platformKeys: { openai: 'sk-platform' }, notifier: { notify: async (n) => void delivered.push(n) } });
});
afterAll(async () => {
  await gw.close();
  await fake.close();
});

describe('cost alerts evaluated on settle (no job involved)', () => {
  it('a gateway call that crosses the threshold fires the alert once; later calls in the period do not repeat it', async () => {
    const t = await createTenant(database, { role: 'member' });
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: 10_000 });
    const created = await fetch(`${gw.url}/alerts`, {
      method: 'POST', headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ threshold_percent: 1, period: 'daily', metric: 'tokens', channel: 'log' }),
    });
    expect(created.status).toBe(201);
    const alert = (await created.json()) as { id: string };
    const client = gw.client(t.token);
    const call = () => client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'spend [[words:120]]' }], max_tokens: 200 });

    const first = await call();
    await settled(gw, database, t.orgId);
    expect(first.usage!.total_tokens).toBeGreaterThanOrEqual(100); // ≥ 1% of 10 000
    expect(delivered.filter((n) => n.alert_id === alert.id)).toHaveLength(1);
    expect(delivered.find((n) => n.alert_id === alert.id)).toMatchObject({ metric: 'tokens', period: 'daily', limit: 10_000, used: first.usage!.total_tokens, channel: 'log' });

    await call();
    await settled(gw, database, t.orgId);
    expect(delivered.filter((n) => n.alert_id === alert.id)).toHaveLength(1);
  });
});
