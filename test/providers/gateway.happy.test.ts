import { getTestServer } from '@google-cloud/functions-framework/testing';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProvidersApp } from '../../functions/providers/app.js';
import { serveFunction } from '../../functions/shared/http/serve.js';
import { startAnthropicUpstream } from '../fakes/anthropic-upstream.js';
import { startGeminiUpstream } from '../fakes/gemini-upstream.js';
import { startOpenAiUpstream } from '../fakes/openai-upstream.js';
import type { FakeUpstream } from '../fakes/upstream-core.js';
import { listen } from '../support/app.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant, type TestTenant } from '../support/tenants.js';
import { pointCatalog, settled, startGateway, usageTotals, type Gateway } from '../support/gateway.js';

const { database } = await createTestDatabase();
const fakes: Record<string, FakeUpstream> = {};
let gw: Gateway;
let tenant: TestTenant;

beforeAll(async () => {
  fakes.openai = await startOpenAiUpstream({ apiKey: 'sk-platform-openai-0000' });
  fakes.anthropic = await startAnthropicUpstream({ apiKey: 'sk-ant-platform-0000' });
  fakes.gemini = await startGeminiUpstream({ apiKey: 'AIza-platform-gemini-0000' });
  fakes.compat = await startOpenAiUpstream({ apiKey: 'gsk-my-own-compat-key-9876' });
  for (const id of ['openai', 'anthropic', 'gemini']) await pointCatalog(database, id, fakes[id]!.baseUrl);
  gw = await startGateway(database, { platformKeys: { openai: 'sk-platform-openai-0000', anthropic: 'sk-ant-platform-0000', gemini: 'AIza-platform-gemini-0000' } });
  tenant = await createTenant(database, { role: 'member' });
  const res = await fetch(`${gw.url}/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'openai_compatible', name: 'my-compat', api_key: 'gsk-my-own-compat-key-9876', base_url: fakes.compat!.baseUrl }),
  });
  expect(res.status).toBe(201);
});
afterAll(async () => {
  await gw.close();
  await Promise.all(Object.values(fakes).map((f) => f.close()));
});

const routes = [
  { label: 'OpenAI', model: 'openai/gpt-4o-mini', fake: 'openai' },
  { label: 'Anthropic', model: 'anthropic/claude-3-5-haiku-latest', fake: 'anthropic' },
  { label: 'Gemini', model: 'gemini/gemini-2.0-flash', fake: 'gemini' },
  { label: 'OpenAI-compatible (BYOK base_url)', model: 'my-compat/llama-3-8b', fake: 'compat' },
] as const;

describe.each(routes)('the official openai client through the gateway: $label', ({ model, fake }) => {
  const messages = [
    { role: 'system' as const, content: 'be brief' },
    { role: 'user' as const, content: 'hello gateway world' },
  ];
  // The fakes answer "Echo: <words>" and count one token per word (+3 per message).
  const expected = 'Echo: hello gateway world';
  const usage = { prompt_tokens: 2 + 3 + 3 + 3, completion_tokens: 4 };

  it('non-streaming: same content and usage as the upstream', async () => {
    const before = fakes[fake]!.requests.length;
    const completion = await gw.client(tenant.token).chat.completions.create({ model, messages, max_tokens: 50 });
    expect(completion.choices[0]!.message.content).toBe(expected);
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(completion.model).toBe(model);
    expect(completion.usage).toMatchObject({ ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens });
    expect(fakes[fake]!.requests.length).toBe(before + 1);
  });

  it('streaming: same content, and the provider usage when asked with include_usage', async () => {
    const stream = await gw.client(tenant.token).chat.completions.create({ model, messages, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null | undefined;
    let reported: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) reported = chunk.usage;
      expect(chunk.object).toBe('chat.completion.chunk');
    }
    expect(text).toBe(expected);
    expect(finish).toBe('stop');
    expect(reported).toMatchObject(usage);
    // Upstreams that speak OpenAI's format were asked for usage in the stream.
    const last = fakes[fake]!.requests.at(-1)!;
    if (fake === 'openai' || fake === 'compat') expect(last.body.stream_options).toEqual({ include_usage: true });
  });

  it('streaming without include_usage: no usage chunk reaches the client, but the call is billed', async () => {
    await settled(gw, database, tenant.orgId); // the previous stream settles after its last byte
    const before = await usageTotals(database, tenant.orgId);
    const stream = await gw.client(tenant.token).chat.completions.create({ model, messages, stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => !c.usage)).toBe(true);
    await settled(gw, database, tenant.orgId);
    const after = await usageTotals(database, tenant.orgId);
    expect(after.prompt - before.prompt).toBe(usage.prompt_tokens);
    expect(after.completion - before.completion).toBe(usage.completion_tokens);
  });
});

describe('gateway shapes', () => {
  it('GET /v1/models lists catalog models as <provider>/<model> for the openai client', async () => {
    const ids: string[] = [];
    for await (const m of gw.client(tenant.token).models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining(['openai/gpt-4o-mini', 'anthropic/claude-3-5-haiku-latest', 'gemini/gemini-2.0-flash']));
  });

  it('an unknown route answers 404 in the OpenAI error shape', async () => {
    const err = await gw.client(tenant.token).chat.completions.create({ model: 'nope/x', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.error).toMatchObject({ code: 'model-not-found', type: 'not_found_error' });
  });

  it('retries a 5xx before the first byte and then succeeds', async () => {
    fakes.openai!.failNext(503, 2);
    const before = fakes.openai!.requests.length;
    const completion = await gw.client(tenant.token).chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'retry me' }] });
    expect(completion.choices[0]!.message.content).toBe('Echo: retry me');
    expect(fakes.openai!.requests.length).toBe(before + 3);
  });

  it('works through the functions-framework server too (streaming)', async () => {
    serveFunction('providersGatewayTest', buildProvidersApp(async () => gw.services));
    const server = await listen(getTestServer('providersGatewayTest'));
    try {
      const client = new OpenAI({ apiKey: tenant.token, baseURL: `${server.url}/v1`, maxRetries: 0 });
      const stream = await client.chat.completions.create({ model: 'anthropic/claude-3-5-haiku-latest', messages: [{ role: 'user', content: 'through the framework' }], stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      expect(text).toBe('Echo: through the framework');
      const bad = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' }, body: '{"model":' });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as any).error.type).toBe('invalid_request_error');
    } finally {
      await server.close();
    }
  });
});
