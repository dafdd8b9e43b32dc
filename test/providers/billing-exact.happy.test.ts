import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimatePromptTokens, FALLBACK_MAX_OUTPUT } from '../../functions/providers/service/gateway.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant, type TestTenant } from '../support/tenants.js';
import { RECORDED } from '../fakes/fixtures/recorded-streams.js';
import type { ScriptedUpstream } from '../fakes/scripted-upstream.js';
import { requestLogs, setLimits, settled, startScriptedGateway, usageTotals, type Gateway } from '../support/gateway.js';

/**
 * Exact billing (issue 13): the reservation is prompt estimate + n × output cap, the cap is the
 * model's catalog maximum or the key's default (never a constant sent upstream unless the provider
 * requires a cap), usage is priced per token class from the catalog (migration 0005 list prices),
 * and a stream whose provider reports no usage is billed from everything it produced.
 */
const { database } = await createTestDatabase();
let upstream: ScriptedUpstream;
let gw: Gateway;

beforeAll(async () => {
  ({ upstream, gw } = await startScriptedGateway(database));
});
afterAll(async () => {
  await gw.close();
  await upstream.close();
});

const okJson = (usage: object, content = 'ok') => ({
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ id: 'chatcmpl-b', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage }),
});
const anthropicJson = (usage: object) => ({
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ id: 'msg_b', type: 'message', role: 'assistant', model: 'claude', content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', stop_sequence: null, usage }),
});
const lastRequest = () => upstream.requests.at(-1)!;

async function newTenant(): Promise<{ t: TestTenant; client: OpenAI }> {
  const t = await createTenant(database, { role: 'member' });
  return { t, client: new OpenAI({ apiKey: t.token, baseURL: `${gw.url}/v1`, maxRetries: 0 }) };
}

async function reservedTokens(orgId: string): Promise<number[]> {
  const { rows } = await database.pool!.query(`SELECT tokens_reserved::int AS t FROM providers.quota_reservations WHERE org_id = $1 ORDER BY created_at`, [orgId]);
  return rows.map((r) => r.t);
}

describe('the reservation', () => {
  it('counts n × the output cap: n: 128 cannot slip past a 1,000-token daily limit', async () => {
    const { t, client } = await newTenant();
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: 1_000 });
    const messages = [{ role: 'user' as const, content: 'many choices' }];
    const err = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages, n: 128, max_tokens: 50 }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.code).toBe('quota-exceeded');
    upstream.next(okJson({ prompt_tokens: 5, completion_tokens: 80, total_tokens: 85 }));
    await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages, n: 4, max_tokens: 50 });
    await settled(gw, database, t.orgId);
    const prompt = estimatePromptTokens({ model: 'openai/gpt-4o-mini', messages });
    expect(await reservedTokens(t.orgId)).toEqual([prompt + 4 * 50]);
  });

  it("without max_tokens it is the model's catalog maximum, and nothing is injected upstream for OpenAI", async () => {
    const { t, client } = await newTenant();
    upstream.next(okJson({ prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 }));
    const messages = [{ role: 'user' as const, content: 'no cap given' }];
    await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages });
    expect(lastRequest().body).not.toHaveProperty('max_tokens');
    expect(lastRequest().body).not.toHaveProperty('max_completion_tokens');
    await settled(gw, database, t.orgId);
    // gpt-4o-mini's catalog max_output_tokens is 16384 (migration 0003).
    expect(await reservedTokens(t.orgId)).toEqual([estimatePromptTokens({ model: 'openai/gpt-4o-mini', messages }) + 16_384]);
  });

  it('Anthropic requires max_tokens: the catalog maximum is sent; a BYOK model outside the catalog gets the key default, else the documented fallback', async () => {
    const { t, client } = await newTenant();
    upstream.next(anthropicJson({ input_tokens: 5, output_tokens: 1 }));
    await client.chat.completions.create({ model: 'anthropic/claude-3-5-haiku-latest', messages: [{ role: 'user', content: 'hi' }] });
    expect(lastRequest().body.max_tokens).toBe(8_192);

    const create = (name: string, extra: object) => fetch(`${gw.url}/keys`, {
      method: 'POST', headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'anthropic', name, api_key: 'sk-ant-my-own-key-1234', base_url: upstream.baseUrl('/v1'), ...extra }),
    });
    const withDefault = await create('my-claude', { default_max_output_tokens: 1_234 });
    expect(withDefault.status).toBe(201);
    expect(((await withDefault.json()) as any).default_max_output_tokens).toBe(1_234);
    upstream.next(anthropicJson({ input_tokens: 5, output_tokens: 1 }));
    await client.chat.completions.create({ model: 'my-claude/claude-future-9', messages: [{ role: 'user', content: 'hi' }] });
    expect(lastRequest().body).toMatchObject({ model: 'claude-future-9', max_tokens: 1_234 });

    expect((await create('bare-claude', {})).status).toBe(201);
    upstream.next(anthropicJson({ input_tokens: 5, output_tokens: 1 }));
    await client.chat.completions.create({ model: 'bare-claude/claude-future-9', messages: [{ role: 'user', content: 'hi' }] });
    expect(lastRequest().body.max_tokens).toBe(FALLBACK_MAX_OUTPUT);
    await settled(gw, database, t.orgId);
    const prompt = estimatePromptTokens({ model: 'x', messages: [{ role: 'user', content: 'hi' }] });
    expect(await reservedTokens(t.orgId)).toEqual([prompt + 8_192, prompt + 1_234, prompt + FALLBACK_MAX_OUTPUT]);
  });
});

describe('prices per token class', () => {
  it('Anthropic cache reads at 0.1× and writes at 1.25× the input price; usage in OpenAI shape', async () => {
    const { t, client } = await newTenant();
    upstream.next(anthropicJson({ input_tokens: 100, cache_creation_input_tokens: 1_000, cache_read_input_tokens: 10_000, output_tokens: 50 }));
    const completion = await client.chat.completions.create({ model: 'anthropic/claude-3-5-haiku-latest', messages: [{ role: 'user', content: 'cached' }], max_tokens: 100 });
    expect(completion.usage).toMatchObject({ prompt_tokens: 11_100, completion_tokens: 50, total_tokens: 11_150, prompt_tokens_details: { cached_tokens: 10_000 } });
    await settled(gw, database, t.orgId);
    const [log] = await requestLogs(database, t.orgId);
    // claude-3-5-haiku-latest: input 800000, cache read 80000, cache write 1000000, output 4000000 µ$/Mtok.
    expect(log).toMatchObject({ prompt_tokens: 11_100, completion_tokens: 50, cost_micros: Math.ceil((100 * 800_000 + 10_000 * 80_000 + 1_000 * 1_000_000 + 50 * 4_000_000) / 1e6) });
  });

  it('OpenAI cached_tokens at the cached price, reasoning_tokens reported (billed as output)', async () => {
    const { t, client } = await newTenant();
    upstream.next(okJson({ prompt_tokens: 2_000, completion_tokens: 300, total_tokens: 2_300, prompt_tokens_details: { cached_tokens: 1_536 }, completion_tokens_details: { reasoning_tokens: 200 } }));
    const completion = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'cached' }], max_tokens: 400 });
    expect(completion.usage).toMatchObject({ prompt_tokens_details: { cached_tokens: 1_536 }, completion_tokens_details: { reasoning_tokens: 200 } });
    await settled(gw, database, t.orgId);
    const [log] = await requestLogs(database, t.orgId);
    // gpt-4o-mini: input 150000, cached 75000, output 600000.
    expect(log.cost_micros).toBe(Math.ceil((464 * 150_000 + 1_536 * 75_000 + 300 * 600_000) / 1e6));
  });

  it('Gemini stream: cachedContentTokenCount at the cached price, thoughts as output', async () => {
    const { t, client } = await newTenant();
    const gemini = RECORDED.find((r) => r.kind === 'gemini')!;
    upstream.next({ body: gemini.wire, writes: 'bytes' });
    const stream = await client.chat.completions.create({ model: 'gemini/gemini-2.0-flash', messages: [{ role: 'user', content: 'think' }], stream: true, stream_options: { include_usage: true } });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of stream) if (c.usage) usage = c.usage;
    expect(usage).toMatchObject({ prompt_tokens: 40, completion_tokens: 16, prompt_tokens_details: { cached_tokens: 32 }, completion_tokens_details: { reasoning_tokens: 11 } });
    await settled(gw, database, t.orgId);
    const [log] = await requestLogs(database, t.orgId);
    // gemini-2.0-flash: input 100000, cached 25000, output 400000.
    expect(log.cost_micros).toBe(Math.ceil((8 * 100_000 + 32 * 25_000 + 16 * 400_000) / 1e6));
  });
});

describe('a stream without provider usage', () => {
  it('is billed from everything produced, tool-call arguments included', async () => {
    const { t, client } = await newTenant();
    const key = await fetch(`${gw.url}/keys`, {
      method: 'POST', headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'openai_compatible', name: 'old-vllm', api_key: 'sk-vllm-key-5678', base_url: upstream.baseUrl('/v1') }),
    });
    expect(key.status).toBe(201);
    // A server that ignores stream_options: tool-call fragments, a finish chunk, [DONE], no usage.
    const args = ['{"city":', ' "Paris", "unit":', ' "celsius"}'];
    const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'llama', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    upstream.next({
      body: chunk({ role: 'assistant', tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }) +
        args.map((a) => chunk({ tool_calls: [{ index: 0, function: { arguments: a } }] })).join('') + chunk({}, 'tool_calls') + 'data: [DONE]\n\n',
    });
    const messages = [{ role: 'user' as const, content: 'weather in Paris?' }];
    const stream = await client.chat.completions.create({ model: 'old-vllm/llama-3-8b', messages, stream: true });
    let received = '';
    for await (const c of stream) received += c.choices[0]?.delta?.tool_calls?.[0]?.function?.arguments ?? '';
    expect(received).toBe(args.join(''));
    await settled(gw, database, t.orgId);
    const [log] = await requestLogs(database, t.orgId);
    expect(log).toMatchObject({
      status: 200,
      prompt_tokens: estimatePromptTokens({ model: 'old-vllm/llama-3-8b', messages }),
      completion_tokens: Math.ceil(('get_weather'.length + args.join('').length) / 4),
    });
    const usage = await usageTotals(database, t.orgId);
    expect(usage.completion).toBe(log.completion_tokens);
  });
});
