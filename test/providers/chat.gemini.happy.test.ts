import { getTestServer } from '@google-cloud/functions-framework/testing';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProvidersApp } from '../../functions/providers/app.js';
import { serveFunction } from '../../functions/shared/http/serve.js';
import { listen } from '../support/app.js';
import { geminiCallStream, geminiParallelCalls, geminiPromptBlocked, geminiText, geminiTwoCandidates } from '../fakes/fixtures/gemini-tools.js';
import { geminiSse } from '../fakes/replay-upstream.js';
import { collect, startSurface } from '../support/surface.js';

/**
 * The openai client through the gateway to a Gemini upstream (https://ai.google.dev/api/generate-content):
 * functionDeclarations + toolConfig, functionCall parts → tool_calls (ids generated, args JSON text),
 * functionResponse parts back, images as inlineData/fileData, generationConfig parameters.
 */
const s = await startSurface();
afterAll(() => s.close());

const weather = { type: 'function' as const, function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'], additionalProperties: false } } };
const time = { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } } };

describe('Gemini: tools', () => {
  it('non-streamed: parallel functionCall parts become tool_calls; the next turn sends them back with their thought signature and one functionResponse turn', async () => {
    s.up.gem.reply({ json: geminiParallelCalls });
    const first = await s.client.chat.completions.create({ model: 'gem/gemini-3-flash-preview', messages: [{ role: 'user', content: 'Weather in Paris and London?' }], tools: [weather], tool_choice: 'auto' });
    const sent = s.up.gem.last();
    expect(sent.path).toBe('/v1beta/models/gemini-3-flash-preview:generateContent');
    expect(sent.body.tools).toEqual([{ functionDeclarations: [{ name: 'get_weather', description: 'Weather', parametersJsonSchema: weather.function.parameters }] }]);
    expect(sent.body.toolConfig).toEqual({ functionCallingConfig: { mode: 'AUTO' } });
    const msg = first.choices[0]!.message;
    const calls = msg.tool_calls as OpenAI.ChatCompletionMessageFunctionToolCall[];
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    expect(msg.content).toBeNull();
    expect(calls.map((t) => [t.type, t.function.name, JSON.parse(t.function.arguments)])).toEqual([
      ['function', 'get_weather', { location: 'Paris' }],
      ['function', 'get_weather', { location: 'London' }],
    ]);
    expect(new Set(calls.map((t) => t.id)).size).toBe(2);
    expect(first.usage).toMatchObject({ prompt_tokens: 61, completion_tokens: 70, completion_tokens_details: { reasoning_tokens: 50 } });

    s.up.gem.reply({ json: geminiText('Paris 21°C, London 17°C.') });
    const second = await s.client.chat.completions.create({
      model: 'gem/gemini-3-flash-preview', tools: [weather],
      messages: [
        { role: 'user', content: 'Weather in Paris and London?' },
        msg as never,
        { role: 'tool', tool_call_id: calls[0]!.id, content: '{"temp_c":21}' },
        { role: 'tool', tool_call_id: calls[1]!.id, content: 'seventeen degrees' },
      ],
    });
    expect(second.choices[0]!.message.content).toBe('Paris 21°C, London 17°C.');
    // https://ai.google.dev/gemini-api/docs/thought-signatures: the signature returns on the part it came with.
    expect(s.up.gem.last().body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Paris and London?' }] },
      { role: 'model', parts: [
        { functionCall: { name: 'get_weather', args: { location: 'Paris' } }, thoughtSignature: 'CiQB0e2Kb7zYx1signatureA==' },
        { functionCall: { name: 'get_weather', args: { location: 'London' } } },
      ] },
      { role: 'user', parts: [
        { functionResponse: { name: 'get_weather', response: { temp_c: 21 } } },
        { functionResponse: { name: 'get_weather', response: { result: 'seventeen degrees' } } },
      ] },
    ]);
  });

  it.each([
    ['none', { mode: 'NONE' }],
    ['required', { mode: 'ANY' }],
    [{ type: 'function', function: { name: 'get_time' } }, { mode: 'ANY', allowedFunctionNames: ['get_time'] }],
  ] as const)('tool_choice %j becomes functionCallingConfig %j', async (choice, expected) => {
    s.up.gem.reply({ json: geminiText('ok') });
    await s.client.chat.completions.create({ model: 'gem/gemini-3-flash-preview', messages: [{ role: 'user', content: 'hi' }], tools: [weather, time], tool_choice: choice as never });
    expect(s.up.gem.last().body.toolConfig).toEqual({ functionCallingConfig: expected });
  });

  it('streamed (?alt=sse): functionCall events become tool_calls deltas with ids, name and the whole arguments', async () => {
    s.up.gem.reply({ sse: geminiSse(geminiCallStream) });
    const stream = await s.client.chat.completions.create({ model: 'gem/gemini-3-flash-preview', messages: [{ role: 'user', content: 'weather and time in Paris' }], tools: [weather, time], stream: true, stream_options: { include_usage: true } });
    expect(s.up.gem.last().path).toBe('/v1beta/models/gemini-3-flash-preview:streamGenerateContent?alt=sse');
    const { choices, usage } = await collect(stream);
    const c = choices.get(0)!;
    expect(c.content).toBe('Let me look that up.');
    expect(c.finish).toBe('tool_calls');
    expect(c.toolCalls.map((t) => [t.name, JSON.parse(t.arguments)])).toEqual([['get_weather', { location: 'Paris' }], ['get_time', { zone: 'Europe/Paris' }]]);
    expect(c.toolCalls.every((t) => t.id?.startsWith('call_'))).toBe(true);
    expect(usage).toMatchObject({ prompt_tokens: 61, completion_tokens: 34 });
  });
});

describe('Gemini: content, parameters and finish reasons', () => {
  it('system and developer turns → systemInstruction; image_url data URI → inlineData, URL → fileData', async () => {
    s.up.gem.reply({ json: geminiText('Two ants.') });
    await s.client.chat.completions.create({
      model: 'gem/gemini-3-flash-preview',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: 'Count things.' },
        { role: 'user', content: [
          { type: 'text', text: 'How many?' },
          { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQSkZJRg==' } },
          { type: 'image_url', image_url: { url: 'https://example.com/photos/ants.png' } },
        ] },
      ],
    });
    const body = s.up.gem.last().body;
    expect(body.systemInstruction).toEqual({ parts: [{ text: 'Be brief.' }, { text: 'Count things.' }] });
    // https://ai.google.dev/api/caching#Part (inlineData Blob, fileData FileData)
    expect(body.contents).toEqual([{ role: 'user', parts: [
      { text: 'How many?' },
      { inlineData: { mimeType: 'image/jpeg', data: '/9j/4AAQSkZJRg==' } },
      { fileData: { fileUri: 'https://example.com/photos/ants.png', mimeType: 'image/png' } },
    ] }]);
  });

  it('n, seed, stop, penalties, logprobs, response_format json_schema → generationConfig; two candidates → two choices', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    s.up.gem.reply({ json: geminiTwoCandidates });
    const completion = await s.client.chat.completions.create({
      model: 'gem/gemini-2.5-flash', messages: [{ role: 'user', content: 'a French city' }],
      n: 2, seed: 7, stop: ['END'], presence_penalty: 0.5, frequency_penalty: 0.25, logprobs: true, top_logprobs: 3, temperature: 1.5, top_p: 0.9, max_tokens: 100,
      response_format: { type: 'json_schema', json_schema: { name: 'city', schema } }, reasoning_effort: 'low',
    });
    expect(s.up.gem.last().body.generationConfig).toEqual({
      maxOutputTokens: 100, temperature: 1.5, topP: 0.9, stopSequences: ['END'], candidateCount: 2, seed: 7, presencePenalty: 0.5, frequencyPenalty: 0.25,
      responseLogprobs: true, logprobs: 3, responseMimeType: 'application/json', responseJsonSchema: schema, thinkingConfig: { thinkingBudget: 1024 },
    });
    expect(completion.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([[0, '{"city":"Paris"}', 'stop'], [1, '{"city":"Lyon"}', 'length']]);
  });

  it('json_object → responseMimeType; reasoning_effort on Gemini 3 → thinkingLevel', async () => {
    s.up.gem.reply({ json: geminiText('{}') });
    await s.client.chat.completions.create({ model: 'gem/gemini-3-pro-preview', messages: [{ role: 'user', content: 'json' }], response_format: { type: 'json_object' }, reasoning_effort: 'high' });
    expect(s.up.gem.last().body.generationConfig).toEqual({ responseMimeType: 'application/json', thinkingConfig: { thinkingLevel: 'high' } });
  });

  it('a blocked prompt answers finish_reason content_filter with the prompt usage (non-streamed and streamed)', async () => {
    s.up.gem.reply({ json: geminiPromptBlocked }, { sse: geminiSse([geminiPromptBlocked]) });
    const completion = await s.client.chat.completions.create({ model: 'gem/gemini-3-flash-preview', messages: [{ role: 'user', content: 'something blocked' }] });
    expect(completion.choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: null } });
    expect(completion.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 0 });
    const { choices, usage } = await collect(await s.client.chat.completions.create({ model: 'gem/gemini-3-flash-preview', messages: [{ role: 'user', content: 'something blocked' }], stream: true, stream_options: { include_usage: true } }));
    expect(choices.get(0)!.finish).toBe('content_filter');
    expect(usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 0 });
  });
});

describe('through the functions-framework server', () => {
  it('a tool-calling round trip (streamed call, then the tool result) with the openai client', async () => {
    serveFunction('providersToolsTest', buildProvidersApp(async () => s.gw.services));
    const server = await listen(getTestServer('providersToolsTest'));
    try {
      const client = new OpenAI({ apiKey: s.tenant.token, baseURL: `${server.url}/v1`, maxRetries: 0 });
      s.up.gem.reply({ sse: geminiSse(geminiCallStream) }, { json: geminiText('Sunny, 14:00.') });
      const runner = client.chat.completions.stream({ model: 'gem/gemini-3-flash-preview', messages: [{ role: 'user', content: 'weather and time in Paris' }], tools: [weather, time] });
      const assistant = (await runner.finalChatCompletion()).choices[0]!.message;
      expect(assistant.tool_calls!.map((t) => t.function.name)).toEqual(['get_weather', 'get_time']);
      const answer = await client.chat.completions.create({
        model: 'gem/gemini-3-flash-preview', tools: [weather, time],
        messages: [
          { role: 'user', content: 'weather and time in Paris' },
          assistant as never,
          ...assistant.tool_calls!.map((t) => ({ role: 'tool' as const, tool_call_id: t.id, content: t.function.name === 'get_weather' ? '{"sky":"sunny"}' : '{"time":"14:00"}' })),
        ],
      });
      expect(answer.choices[0]!.message.content).toBe('Sunny, 14:00.');
      expect(s.up.gem.last().body.contents.at(-1)).toEqual({ role: 'user', parts: [
        { functionResponse: { name: 'get_weather', response: { sky: 'sunny' } } },
        { functionResponse: { name: 'get_time', response: { time: '14:00' } } },
      ] });
      expect(s.up.gem.last().body.contents.at(-2).parts[1]).toEqual({ functionCall: { name: 'get_weather', args: { location: 'Paris' } }, thoughtSignature: 'CiQB0e2Kb7zYx1signatureB==' });
    } finally {
      await server.close();
    }
  });
});
