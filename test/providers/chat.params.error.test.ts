import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { anthropicTextMessage } from '../fakes/fixtures/anthropic-tools.js';
import { geminiText } from '../fakes/fixtures/gemini-tools.js';
import { addKey, collect, startSurface } from '../support/surface.js';
import { openAiToolStream } from '../fakes/fixtures/openai-tools.js';
import { openAiSse } from '../fakes/replay-upstream.js';

/**
 * A parameter a route cannot honour answers 400 naming it (`error.param`, read by the openai SDK as
 * BadRequestError.param) and the route, before anything is reserved or sent upstream; drop_params
 * opts into dropping, listed in x-lattice-dropped-params. OpenAI routes forward parameters as sent.
 */
const s = await startSurface();
afterAll(() => s.close());
const hi = [{ role: 'user' as const, content: 'hi' }];

describe('parameters a provider cannot honour', () => {
  it.each([
    ['ant/claude-opus-4-6', { temperature: 1.5 }, 'temperature', /Anthropic temperature accepts 0 to 1/],
    ['ant/claude-opus-4-6', { seed: 42 }, 'seed', /no such parameter/],
    ['ant/claude-opus-4-6', { n: 2 }, 'n', /one completion/],
    ['ant/claude-opus-4-6', { logprobs: true }, 'logprobs', /log probabilities/],
    ['ant/claude-opus-4-6', { response_format: { type: 'json_object' } }, 'response_format', /json_schema/],
    ['ant/claude-opus-4-6', { frequency_penalty: 0.5 }, 'frequency_penalty', /frequency penalty/],
    ['gem/gemini-3-flash-preview', { user: 'u-1' }, 'user', /no such parameter/],
    ['gem/gemini-3-flash-preview', { parallel_tool_calls: false }, 'parallel_tool_calls', /one function at a time/],
    ['gem/gemini-3-flash-preview', { stop: ['a', 'b', 'c', 'd', 'e', 'f'] }, 'stop', /at most 5/],
    ['gem/gemini-3-flash-preview', { logit_bias: { '50256': -100 } }, 'logit_bias', /no such parameter/],
  ] as const)('%s with %j → 400 param %s', async (model, extra, param, reason) => {
    const before = s.up.ant.requests.length + s.up.gem.requests.length;
    const err = await s.client.chat.completions.create({ model, messages: hi, ...(extra as object) } as never).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.param).toBe(param);
    expect(err.code).toBe('unsupported-parameter');
    expect(err.message).toMatch(reason);
    expect(err.message).toContain(`route "${model.split('/')[0]}"`);
    expect(s.up.ant.requests.length + s.up.gem.requests.length).toBe(before);
  });

  it('content a provider cannot take (an audio part for Anthropic) → 400 naming the part', async () => {
    const err = await s.client.chat.completions.create({
      model: 'ant/claude-opus-4-6', messages: [{ role: 'user', content: [{ type: 'text', text: 'listen' }, { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }],
    }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.param).toBe('messages[0].content[1]');
  });

  it('drop_params: true drops them, says so in x-lattice-dropped-params, and the call goes through', async () => {
    s.up.ant.reply({ json: anthropicTextMessage('hello') });
    const { data, response } = await s.client.chat.completions
      .create({ model: 'ant/claude-opus-4-6', messages: hi, seed: 42, logprobs: true, temperature: 0.5, drop_params: true } as never)
      .withResponse();
    expect((data as OpenAI.ChatCompletion).choices[0]!.message.content).toBe('hello');
    expect(response.headers.get('x-lattice-dropped-params')).toBe('seed, logprobs');
    const sent = s.up.ant.last().body;
    expect(sent).not.toHaveProperty('seed');
    expect(sent).not.toHaveProperty('logprobs');
    expect(sent).not.toHaveProperty('drop_params');
    expect(sent.temperature).toBe(0.5);
  });

  it('a key created with drop_params: true drops for every call through it', async () => {
    const key = await addKey(s.gw, s.tenant.token, { provider: 'anthropic', name: 'ant-lenient', api_key: 'sk-ant-api03-lenient-key', base_url: s.up.ant.baseUrl, drop_params: true });
    expect(key).toMatchObject({ drop_params: true });
    s.up.ant.reply({ json: anthropicTextMessage('hello') });
    const { response } = await s.client.chat.completions.create({ model: 'ant-lenient/claude-opus-4-6', messages: hi, seed: 1, n: 1 }).withResponse();
    expect(response.headers.get('x-lattice-dropped-params')).toBe('seed');
    expect(s.up.ant.last().body).not.toHaveProperty('seed');
    const strict = await s.client.chat.completions.create({ model: 'ant/claude-opus-4-6', messages: hi, seed: 1 }).catch((e) => e);
    expect(strict.param).toBe('seed');
  });

  it('nothing dropped → no header', async () => {
    s.up.gem.reply({ json: geminiText('hi') });
    const { response } = await s.client.chat.completions.create({ model: 'gem/gemini-3-flash-preview', messages: hi, drop_params: true } as never).withResponse();
    expect(response.headers.get('x-lattice-dropped-params')).toBeNull();
  });
});

describe('OpenAI routes forward the request as sent', () => {
  it('tools, tool results, seed and logprobs reach OpenAI unchanged (drop_params is the gateway\'s own and is removed)', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } } }];
    const messages = [
      { role: 'user' as const, content: 'weather?' },
      { role: 'assistant' as const, content: null, tool_calls: [{ id: 'call_1', type: 'function' as const, function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
      { role: 'tool' as const, tool_call_id: 'call_1', content: '21C' },
    ];
    s.up.oai.reply({ sse: openAiSse(openAiToolStream) });
    const { choices } = await collect(await s.client.chat.completions.create({ model: 'oai/gpt-4o-mini', messages, tools, tool_choice: 'required', seed: 3, logprobs: true, stream: true, drop_params: true } as never) as never);
    const sent = s.up.oai.last().body;
    expect(sent).toMatchObject({ model: 'gpt-4o-mini', messages, tools, tool_choice: 'required', seed: 3, logprobs: true, stream: true, stream_options: { include_usage: true } });
    expect(sent).not.toHaveProperty('drop_params');
    expect(choices.get(0)).toMatchObject({ finish: 'tool_calls', toolCalls: [{ id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', name: 'get_weather', arguments: '{"location":"Paris"}' }] });
  });
});
