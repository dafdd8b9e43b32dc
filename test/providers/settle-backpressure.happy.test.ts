import { afterAll, beforeAll, expect, it } from 'vitest';
import { startOpenAiUpstream } from '../fakes/openai-upstream.js';
import type { FakeUpstream } from '../fakes/upstream-core.js';
import { createTestDatabase } from '../support/db.js';
import { pointCatalog, startGateway, type Gateway } from '../support/gateway.js';
import { createTenant, type TestTenant } from '../support/tenants.js';

/**
 * Backpressure (settle-batcher.ts maxPending, gateway.ts settleRoom): once an instance holds its bound of
 * unwritten settles, a new call — streamed or not — waits before it reserves, until a batch commits.
 */
const { database } = await createTestDatabase();
let fake: FakeUpstream;
let gw: Gateway;
let tenant: TestTenant;

beforeAll(async () => {
  fake = await startOpenAiUpstream({ apiKey: 'sk-platform-openai-0000' });
  await pointCatalog(database, 'openai', fake.baseUrl);
  // Settles wait for a flush (no timer, "busy"), and one waiting settle is the bound.
  gw = await startGateway(database, { platformKeys: { openai: 'sk-platform-openai-0000' }, settleBatch: { maxPending: 1, maxWaitMs: 600_000, busy: () => true } });
  tenant = await createTenant(database, { role: 'member' });
});
afterAll(async () => {
  await gw.services.settles.flush();
  await gw.close();
  await fake.close();
});

const chat = (stream: boolean) => gw.client(tenant.token).chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 20, stream }) as Promise<unknown>;

async function drain(reply: unknown): Promise<void> {
  if (reply && typeof (reply as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') for await (const _ of reply as AsyncIterable<unknown>);
}

it.each([false, true])('stream=%s: a call started while the bound is reached waits until the settles commit', async (stream) => {
  await drain(await chat(stream));
  expect(gw.services.settles.saturated).toBe(true);
  let answered = false;
  const next = chat(stream).then(async (reply) => {
    await drain(reply);
    answered = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(answered).toBe(false);
  const upstreamCalls = fake.requests.length;
  await gw.services.settles.flush();
  await next;
  expect(answered).toBe(true);
  expect(fake.requests.length).toBe(upstreamCalls + 1);
  await gw.services.settles.flush();
});
