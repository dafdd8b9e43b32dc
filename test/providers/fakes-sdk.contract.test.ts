import Anthropic from '@anthropic-ai/sdk';
import { ApiError, GoogleGenAI, type GenerateContentResponse } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicErrors, anthropicStreams } from '../fakes/fixtures/anthropic.js';
import { geminiErrors, geminiStreams } from '../fakes/fixtures/gemini.js';
import { startAnthropicUpstream } from '../fakes/anthropic-upstream.js';
import { startGeminiUpstream } from '../fakes/gemini-upstream.js';
import type { FakeUpstream } from '../fakes/upstream-core.js';
import type { StreamFixture } from '../fakes/wire.js';

/**
 * The Anthropic and Gemini fakes driven by the providers' own SDKs (@anthropic-ai/sdk's MessageStream, which
 * accumulates input_json_delta into tool inputs and throws on `error` events; @google/genai's stream reader,
 * which splits on \r\n\r\n and throws on error chunks). If a fixture or an echo answer were not what the real
 * API sends, these clients would reject it here, before any gateway test relies on it.
 */
let anthropic: FakeUpstream;
let gemini: FakeUpstream;
beforeAll(async () => {
  [anthropic, gemini] = await Promise.all([startAnthropicUpstream({ apiKey: 'sk-ant-sdk' }), startGeminiUpstream({ apiKey: 'AIza-sdk' })]);
});
afterAll(async () => {
  await Promise.all([anthropic.close(), gemini.close()]);
});

const claude = () => new Anthropic({ apiKey: 'sk-ant-sdk', baseURL: anthropic.baseUrl.replace(/\/v1$/, ''), maxRetries: 0 });
const genai = (apiKey = 'AIza-sdk') => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: gemini.baseUrl.replace(/\/v1beta$/, ''), apiVersion: 'v1beta' } });

/** What a recorded Anthropic stream says, read straight from its frames. */
function expectedMessage(f: StreamFixture) {
  const data = f.frames.map((fr) => JSON.parse(fr.slice(fr.indexOf('data: ') + 6)));
  const start = data.find((d) => d.type === 'message_start');
  const delta = data.find((d) => d.type === 'message_delta');
  const blocks: any[] = [];
  for (const d of data) {
    if (d.type === 'content_block_start') blocks[d.index] = { type: d.content_block.type, text: '', json: '' };
    if (d.type === 'content_block_delta') {
      const b = blocks[d.index];
      b.text += d.delta.text ?? d.delta.thinking ?? '';
      b.json += d.delta.partial_json ?? '';
    }
  }
  return { start, delta, blocks };
}

describe('Anthropic fixtures through @anthropic-ai/sdk', () => {
  const complete = Object.entries(anthropicStreams).filter(([, f]) => f.frames.at(-1)!.startsWith('event: message_stop'));

  it.each(complete)('%s: MessageStream.finalMessage() rebuilds the message', async (_name, f) => {
    anthropic.serveNext({ stream: f, wire: { chunking: { seed: 17, max: 9 }, keepAliveEvery: 3 } });
    const message = await claude().messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    const { start, delta, blocks } = expectedMessage(f);
    expect(message.stop_reason).toBe(delta.delta.stop_reason);
    expect(message.stop_sequence).toBe(delta.delta.stop_sequence);
    expect(message.usage.output_tokens).toBe(delta.usage.output_tokens);
    expect(message.usage.input_tokens).toBe(start.message.usage.input_tokens);
    expect(message.usage.cache_read_input_tokens).toBe(start.message.usage.cache_read_input_tokens);
    expect(message.content.map((b) => b.type)).toEqual(blocks.map((b) => b.type));
    message.content.forEach((b, i) => {
      if (b.type === 'text') expect(b.text).toBe(blocks[i].text);
      if (b.type === 'thinking') expect(b.thinking).toBe(blocks[i].text);
      if (b.type === 'thinking') expect(b.signature.length).toBeGreaterThan(0);
      if (b.type === 'tool_use') expect(b.input).toEqual(JSON.parse(blocks[i].json));
    });
  });

  it('an overloaded_error event after the 200 is thrown by the SDK with its type and message', async () => {
    anthropic.serveNext({ stream: anthropicStreams.midstreamOverloaded, wire: { chunking: 'bytes1' } });
    const texts: string[] = [];
    const stream = claude().messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] });
    stream.on('text', (t) => texts.push(t));
    const err = await stream.finalMessage().catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    expect(texts.join('')).toBe('Hello wor');
  });

  const expectedClass: Record<number, unknown> = {
    400: Anthropic.BadRequestError, 401: Anthropic.AuthenticationError, 403: Anthropic.PermissionDeniedError, 404: Anthropic.NotFoundError,
    413: Anthropic.APIError, 429: Anthropic.RateLimitError, 500: Anthropic.InternalServerError, 529: Anthropic.InternalServerError,
  };
  it.each(Object.entries(anthropicErrors).map(([k, make]) => [k, make()] as const))('error %s reaches the SDK as its typed error with the request id', async (_k, fixture) => {
    anthropic.serveNext({ error: fixture });
    const err = await claude().messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(expectedClass[fixture.status] as any);
    expect(err.status).toBe(fixture.status);
    expect(err.error).toEqual(fixture.body);
    expect(err.requestID).toBe(fixture.headers['request-id']);
  });

  it('echo answers: streamed text one byte per write, tool_use round trip, cache reads', async () => {
    const text = await claude().messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'hello sdk [[chunk:bytes1]] [[cache:2]]' }] }).finalMessage();
    expect(text.content).toEqual([expect.objectContaining({ type: 'text', text: 'Echo: hello sdk' })]);
    expect(text.usage).toMatchObject({ input_tokens: 5, cache_read_input_tokens: 2, output_tokens: 3 });
    const tools: Anthropic.Tool[] = [{ name: 'lookup', input_schema: { type: 'object', properties: { text: { type: 'string' } } } }];
    const first = await claude().messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 100, tools, messages: [{ role: 'user', content: 'rainbows [[call:lookup]]' }] }).finalMessage();
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((b) => b.type === 'tool_use')!;
    expect(use).toMatchObject({ name: 'lookup', input: { text: 'rainbows' } });
    const second = await claude().messages.create({
      model: 'claude-sonnet-4-5', max_tokens: 100, tools,
      messages: [{ role: 'user', content: 'rainbows [[call:lookup]]' }, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: (use as Anthropic.ToolUseBlock).id, content: 'seven colours' }] }],
    });
    expect(second.content).toEqual([expect.objectContaining({ type: 'text', text: 'Echo: tool seven colours' })]);
  });
});

describe('Gemini fixtures through @google/genai', () => {
  const collect = async (): Promise<GenerateContentResponse[]> => {
    const out: GenerateContentResponse[] = [];
    for await (const c of await genai().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' })) out.push(c);
    return out;
  };
  const complete = Object.entries(geminiStreams).filter(([name]) => !name.startsWith('midstream'));

  it.each(complete)('%s: generateContentStream yields every chunk with its parts and cumulative usage', async (_name, f) => {
    gemini.serveNext({ stream: f, wire: { chunking: { seed: 23, max: 13 } } });
    const chunks = await collect();
    const recorded = f.frames.map((fr) => JSON.parse(fr.slice('data: '.length)));
    expect(chunks).toHaveLength(recorded.length);
    chunks.forEach((c, i) => {
      expect(c.usageMetadata).toEqual(recorded[i].usageMetadata);
      expect(c.candidates?.[0]?.finishReason).toBe(recorded[i].candidates?.[0]?.finishReason);
      expect(c.candidates?.[0]?.content?.parts ?? []).toEqual(recorded[i].candidates?.[0]?.content?.parts ?? []);
      expect(c.promptFeedback?.blockReason).toBe(recorded[i].promptFeedback?.blockReason);
    });
  });

  it.each([['data-framed', geminiStreams.midstreamError], ['raw', geminiStreams.midstreamErrorRaw]] as const)(
    'an error after the 200 (%s) is thrown by the SDK after the partial chunk',
    async (form, f) => {
      gemini.serveNext({ stream: f });
      const seen: string[] = [];
      const err = await (async () => {
        for await (const c of await genai().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' })) seen.push(c.text ?? '');
      })().catch((e) => e);
      expect(seen).toEqual(['Partial']);
      if (form === 'data-framed') {
        expect(err).toBeInstanceOf(ApiError);
        expect(err.status).toBe(503);
      } else {
        // ApiError(500) when the raw body arrives in a read of its own, "Incomplete JSON segment at the end" when TCP
        // joined it to the previous event (js-genai#461): either way the stream fails, which is what matters here.
        expect(err).toBeInstanceOf(Error);
        expect(err instanceof ApiError ? err.status : err.message).toSatisfy((v: unknown) => v === 500 || v === 'Incomplete JSON segment at the end');
      }
    },
  );

  it.each(Object.entries(geminiErrors).map(([k, make]) => [k, make()] as const))('error %s reaches the SDK as ApiError with its status and body', async (_k, fixture) => {
    gemini.serveNext({ error: fixture });
    const err = await genai().models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(fixture.status);
    expect(JSON.parse(err.message)).toEqual(fixture.body);
  });

  it('echo answers: thoughts, function calls and their responses, embeddings, paginated models, a bad key', async () => {
    const ai = genai();
    const thought = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'think please [[think:9]] [[cache:2]]', config: { thinkingConfig: { includeThoughts: true } } });
    expect(thought.candidates![0]!.content!.parts!.map((p) => !!p.thought)).toEqual([true, false]);
    expect(thought.text).toBe('Echo: think please');
    expect(thought.usageMetadata).toMatchObject({ promptTokenCount: 7, cachedContentTokenCount: 2, candidatesTokenCount: 3, thoughtsTokenCount: 9, totalTokenCount: 19 });
    const tools = [{ functionDeclarations: [{ name: 'lookup', parametersJsonSchema: { type: 'object', properties: { text: { type: 'string' } } } }] }];
    const call = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'rainbows [[call:lookup]]', config: { tools } });
    expect(call.functionCalls).toEqual([{ name: 'lookup', args: { text: 'rainbows' } }]);
    const answer = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      config: { tools },
      contents: [
        { role: 'user', parts: [{ text: 'rainbows [[call:lookup]]' }] },
        call.candidates![0]!.content!,
        { role: 'user', parts: [{ functionResponse: { name: 'lookup', response: { output: 'seven colours' } } }] },
      ],
    });
    expect(answer.text).toBe('Echo: tool {"output":"seven colours"}');
    const emb = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['one', 'two words'], config: { outputDimensionality: 4 } });
    expect(emb.embeddings?.map((e) => e.values?.length)).toEqual([4, 4]);
    const names: string[] = [];
    for await (const m of await ai.models.list({ config: { pageSize: 1 } })) names.push(m.name!);
    expect(names).toEqual(['models/gemini-2.5-flash', 'models/gemini-embedding-001']);
    const bad = await genai('AIza-wrong').models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' }).catch((e) => e);
    expect(bad).toBeInstanceOf(ApiError);
    expect(bad.status).toBe(400);
    expect(bad.message).toContain('API_KEY_INVALID');
  });
});
