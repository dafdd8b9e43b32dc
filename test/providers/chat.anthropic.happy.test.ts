import { afterAll, describe, expect, it } from 'vitest';
import { anthropicTextMessage, anthropicToolUseEvents, anthropicToolUseMessage } from '../fakes/fixtures/anthropic-tools.js';
import { anthropicSse } from '../fakes/replay-upstream.js';
import { collect, startSurface } from '../support/surface.js';
import { settled, usageTotals } from '../support/gateway.js';

/**
 * The openai client through the gateway to an Anthropic Messages upstream: requests are translated
 * to the documented Messages shapes (https://platform.claude.com/docs/en/api/messages/create) and
 * answers back to OpenAI's (https://platform.openai.com/docs/api-reference/chat/object).
 */
const s = await startSurface();
afterAll(() => s.close());

const tools = [
  { type: 'function' as const, function: { name: 'get_weather', description: 'Weather at a place', parameters: { type: 'object', properties: { location: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['location'] } } },
  { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: { timezone: { type: 'string' } } } } },
];

describe('Anthropic: tools', () => {
  it('non-streamed: tools and tool_choice are sent in Anthropic form; tool_use blocks come back as tool_calls', async () => {
    s.up.ant.reply({ json: anthropicToolUseMessage });
    const completion = await s.client.chat.completions.create({
      model: 'ant/claude-opus-4-6', messages: [{ role: 'user', content: 'Weather in SF and Paris?' }], tools, tool_choice: 'required', parallel_tool_calls: false, max_tokens: 500,
    });
    const sent = s.up.ant.last().body;
    expect(sent.tools).toEqual([
      { name: 'get_weather', description: 'Weather at a place', input_schema: tools[0]!.function.parameters },
      { name: 'get_time', input_schema: tools[1]!.function.parameters },
    ]);
    expect(sent.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
    expect(sent.max_tokens).toBe(500);
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe("I'll check the weather in both cities.");
    expect(choice.message.tool_calls).toEqual([
      { id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather', arguments: JSON.stringify({ location: 'San Francisco, CA', unit: 'celsius' }) } },
      { id: 'toolu_01B19q90qw90lq917835lq8', type: 'function', function: { name: 'get_weather', arguments: JSON.stringify({ location: 'Paris, France', unit: 'celsius' }) } },
    ]);
    expect(completion.usage).toMatchObject({ prompt_tokens: 472, completion_tokens: 91 });
  });

  it.each([
    ['auto', { type: 'auto' }],
    ['none', { type: 'none' }],
    [{ type: 'function', function: { name: 'get_time' } }, { type: 'tool', name: 'get_time' }],
  ] as const)('tool_choice %j becomes %j', async (choice, expected) => {
    s.up.ant.reply({ json: anthropicTextMessage('ok') });
    await s.client.chat.completions.create({ model: 'ant/claude-opus-4-6', messages: [{ role: 'user', content: 'hi' }], tools, tool_choice: choice as never });
    expect(s.up.ant.last().body.tool_choice).toEqual(expected);
  });

  it('streamed: parallel tool_use blocks with input_json_delta fragments become tool_calls deltas by index', async () => {
    s.up.ant.reply({ sse: anthropicSse(anthropicToolUseEvents) });
    const stream = await s.client.chat.completions.create({ model: 'ant/claude-opus-4-6', messages: [{ role: 'user', content: 'weather and time in SF' }], tools, stream: true, stream_options: { include_usage: true } });
    const { choices, usage } = await collect(stream);
    const c = choices.get(0)!;
    expect(c.content).toBe("Okay, let's check the weather.");
    expect(c.finish).toBe('tool_calls');
    expect(c.toolCalls).toEqual([
      { id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', arguments: '{"location": "San Francisco, CA", "unit": "fahrenheit"}' },
      { id: 'toolu_01U2y2gK45rBnl3uOUsO8Vq7', name: 'get_time', arguments: '{"timezone": "America/Los_Angeles"}' },
    ]);
    expect(JSON.parse(c.toolCalls[0]!.arguments)).toEqual({ location: 'San Francisco, CA', unit: 'fahrenheit' });
    expect(usage).toMatchObject({ prompt_tokens: 472, completion_tokens: 89 });
  });

  it('the openai client helper assembles the streamed tool calls (finalChatCompletion)', async () => {
    s.up.ant.reply({ sse: anthropicSse(anthropicToolUseEvents) });
    const runner = s.client.chat.completions.stream({ model: 'ant/claude-opus-4-6', messages: [{ role: 'user', content: 'weather' }], tools });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]!.message.tool_calls!.map((t) => [t.function.name, JSON.parse(t.function.arguments)])).toEqual([
      ['get_weather', { location: 'San Francisco, CA', unit: 'fahrenheit' }],
      ['get_time', { timezone: 'America/Los_Angeles' }],
    ]);
  });

  it('the second turn: assistant tool_calls become tool_use blocks, consecutive tool results one user turn of tool_result blocks', async () => {
    s.up.ant.reply({ json: anthropicTextMessage('It is 18°C in SF and 3 pm.') });
    await s.client.chat.completions.create({
      model: 'ant/claude-opus-4-6',
      tools,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
        { role: 'user', content: 'weather and time in SF' },
        { role: 'assistant', content: null, tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"SF"}' } },
          { id: 'toolu_2', type: 'function', function: { name: 'get_time', arguments: '{"timezone":"America/Los_Angeles"}' } },
        ] },
        { role: 'tool', tool_call_id: 'toolu_1', content: '{"temp_c":18}' },
        { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '15:00' }] },
        { role: 'user', content: 'summarise' },
      ],
    });
    const sent = s.up.ant.last().body;
    expect(sent.system).toEqual([{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Use metric units.' }]);
    expect(sent.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'weather and time in SF' }] },
      { role: 'assistant', content: [
        { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'SF' } },
        { type: 'tool_use', id: 'toolu_2', name: 'get_time', input: { timezone: 'America/Los_Angeles' } },
      ] },
      { role: 'user', content: [
        { type: 'tool_result', tool_use_id: 'toolu_1', content: '{"temp_c":18}' },
        { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: '15:00' }] },
        { type: 'text', text: 'summarise' },
      ] },
    ]);
  });
});

describe('Anthropic: content and parameters', () => {
  it('image_url parts (URL and data URI) become image blocks; cache_control on a part passes through', async () => {
    s.up.ant.reply({ json: anthropicTextMessage('A cat.') });
    const completion = await s.client.chat.completions.create({
      model: 'ant/claude-opus-4-6',
      messages: [{ role: 'user', content: [
        { type: 'text', text: 'What is in these?', cache_control: { type: 'ephemeral' } } as never,
        { type: 'image_url', image_url: { url: 'https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg' } },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==' } },
      ] }],
    });
    expect(completion.choices[0]!.message.content).toBe('A cat.');
    // https://platform.claude.com/docs/en/build-with-claude/vision (base64 and url sources)
    expect(s.up.ant.last().body.messages[0].content).toEqual([
      { type: 'text', text: 'What is in these?', cache_control: { type: 'ephemeral' } },
      { type: 'image', source: { type: 'url', url: 'https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg' } },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgoAAAANSUhEUg==' } },
    ]);
  });

  it('response_format json_schema, stop, user, temperature and top_p map to output_config.format, stop_sequences, metadata.user_id', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
    s.up.ant.reply({ json: anthropicTextMessage('{"city":"Paris"}') });
    const completion = await s.client.chat.completions.create({
      model: 'ant/claude-opus-4-6', messages: [{ role: 'user', content: 'capital of France' }],
      response_format: { type: 'json_schema', json_schema: { name: 'city', schema, strict: true } },
      stop: ['\n\n', 'END'], user: 'user-1234', temperature: 0.2, top_p: 0.9, max_completion_tokens: 64,
    });
    expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual({ city: 'Paris' });
    // https://platform.claude.com/docs/en/build-with-claude/structured-outputs (output_config.format)
    expect(s.up.ant.last().body).toMatchObject({
      output_config: { format: { type: 'json_schema', schema } }, stop_sequences: ['\n\n', 'END'], metadata: { user_id: 'user-1234' },
      temperature: 0.2, top_p: 0.9, max_tokens: 64,
    });
  });

  it('reasoning_effort: a budget for Claude before 4.6, adaptive thinking with output_config.effort from 4.6 on', async () => {
    s.up.ant.reply({ json: anthropicTextMessage('42') }, { json: anthropicTextMessage('42') });
    await s.client.chat.completions.create({ model: 'ant/claude-sonnet-4-5', messages: [{ role: 'user', content: 'think' }], reasoning_effort: 'medium', max_tokens: 20000 });
    expect(s.up.ant.last().body.thinking).toEqual({ type: 'enabled', budget_tokens: 8192 });
    await s.client.chat.completions.create({ model: 'ant/claude-opus-4-6', messages: [{ role: 'user', content: 'think' }], reasoning_effort: 'low' });
    expect(s.up.ant.last().body).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'low' } });
  });

  it('thinking blocks come back as reasoning_content; the streamed call is billed with the provider usage', async () => {
    await settled(s.gw, s.database, s.tenant.orgId);
    const before = await usageTotals(s.database, s.tenant.orgId);
    s.up.ant.reply({ sse: anthropicSse([
      { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-opus-4-6', content: [], stop_reason: null, usage: { input_tokens: 30, output_tokens: 1 } } },
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Six times seven.' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: '42' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 12 } },
      { type: 'message_stop' },
    ]) });
    const { choices } = await collect(await s.client.chat.completions.create({ model: 'ant/claude-opus-4-6', messages: [{ role: 'user', content: '6*7' }], stream: true, reasoning_effort: 'high' }));
    expect(choices.get(0)).toMatchObject({ content: '42', reasoning: 'Six times seven.', finish: 'stop' });
    await settled(s.gw, s.database, s.tenant.orgId);
    const after = await usageTotals(s.database, s.tenant.orgId);
    expect([after.prompt - before.prompt, after.completion - before.completion]).toEqual([30, 12]);
  });
});
