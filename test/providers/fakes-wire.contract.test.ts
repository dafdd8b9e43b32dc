import fc from 'fast-check';
import OpenAI from 'openai';
import { Stream, _iterSSEMessages } from 'openai/core/streaming';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicErrors, anthropicStreams } from '../fakes/fixtures/anthropic.js';
import { geminiErrors, geminiStreams } from '../fakes/fixtures/gemini.js';
import { openAiErrors, openAiStreams } from '../fakes/fixtures/openai.js';
import { startAnthropicUpstream } from '../fakes/anthropic-upstream.js';
import { startGeminiUpstream } from '../fakes/gemini-upstream.js';
import { startOpenAiUpstream } from '../fakes/openai-upstream.js';
import type { FakeUpstream } from '../fakes/upstream-core.js';
import { chunk, type Chunking, type StreamFixture } from '../fakes/wire.js';

/**
 * Self-test of the provider fakes: the recorded fixtures are well-formed for the official decoders, any
 * chunking reassembles to the same bytes and decodes to the same events, and the fakes' wire options and
 * faults do what they say. The SSE decoder used here is openai-node's `_iterSSEMessages`, which is the same
 * Stainless decoder the Anthropic SDK ships (anthropic-sdk-typescript src/core/streaming.ts), so it stands for
 * both; `Stream.fromSSEResponse` is what `openai` itself runs on a streamed completion.
 */
const fixtures: [string, StreamFixture][] = [
  ...Object.entries(openAiStreams).map(([k, f]) => [`openai.${k}`, f] as [string, StreamFixture]),
  ...Object.entries(anthropicStreams).map(([k, f]) => [`anthropic.${k}`, f] as [string, StreamFixture]),
  ...Object.entries(geminiStreams).map(([k, f]) => [`gemini.${k}`, f] as [string, StreamFixture]),
];

const bodyOf = (f: StreamFixture) => Buffer.from(f.frames.join(''), 'utf8');

function responseFrom(pieces: Buffer[], status = 200): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const p of pieces) controller.enqueue(new Uint8Array(p));
      controller.close();
    },
  });
  return new Response(body, { status, headers: { 'content-type': 'text/event-stream' } });
}

async function events(pieces: Buffer[]): Promise<{ event: string | null; data: string }[]> {
  const out: { event: string | null; data: string }[] = [];
  for await (const e of _iterSSEMessages(responseFrom(pieces), new AbortController())) out.push({ event: e.event, data: e.data });
  return out;
}

async function openAiChunks(pieces: Buffer[]): Promise<any[]> {
  const out: any[] = [];
  for await (const c of Stream.fromSSEResponse<any>(responseFrom(pieces), new AbortController())) out.push(c);
  return out;
}

const chunkingArb: fc.Arbitrary<Chunking> = fc.oneof(
  fc.constant<Chunking>('frames'),
  fc.constant<Chunking>('whole'),
  fc.constant<Chunking>('bytes1'),
  fc.integer({ min: 1, max: 97 }).map((every): Chunking => ({ every })),
  fc.record({ seed: fc.integer(), max: fc.integer({ min: 1, max: 300 }) }).map((r): Chunking => r),
  fc.array(fc.integer({ min: 0, max: 8000 }), { maxLength: 40 }).map((at): Chunking => ({ at })),
);

describe('recorded fixtures', () => {
  it.each(fixtures)('%s: cites its documentation and every frame is complete', (_name, f) => {
    expect(f.source.length).toBeGreaterThan(0);
    for (const url of f.source) expect(url).toMatch(/^https:\/\//);
    for (const frame of f.frames.filter((fr) => !fr.startsWith('{'))) expect(frame).toMatch(/(\n\n|\r\n\r\n)$/); // `{`: a raw error body
  });

  it('any chunking reassembles to the same bytes and decodes to the same events (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fixtures), chunkingArb, async ([, f], chunking) => {
        const pieces = chunk(f.frames, chunking);
        expect(Buffer.concat(pieces).equals(bodyOf(f))).toBe(true);
        expect(pieces.every((p) => p.length > 0)).toBe(true);
        expect(await events(pieces)).toEqual(await events(chunk(f.frames, 'frames')));
      }),
      { numRuns: 150 },
    );
  });

  it('one byte per write splits multi-byte UTF-8 and CRLF pairs, and still decodes the same', async () => {
    for (const [, f] of fixtures) expect(await events(chunk(f.frames, 'bytes1'))).toEqual(await events(chunk(f.frames, 'frames')));
  });
});

describe('OpenAI fixtures through openai.Stream (the SDK decoder)', () => {
  it('include_usage: null usage on every chunk, then one `choices: []` chunk with cached and reasoning details, then [DONE]', async () => {
    const chunks = await openAiChunks(chunk(openAiStreams.textWithUsage.frames, { seed: 7, max: 11 }));
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 1310, completion_tokens: 10, total_tokens: 1320, prompt_tokens_details: { cached_tokens: 1024 }, completion_tokens_details: { reasoning_tokens: 0 } });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Hello! How can I help you today?');
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe('stop');
    const reasoning = await openAiChunks(chunk(openAiStreams.reasoningWithUsage.frames, 'bytes1'));
    expect(reasoning.at(-1)!.usage.completion_tokens_details.reasoning_tokens).toBe(256);
  });

  it('parallel tool calls reassemble by index into two calls with valid JSON arguments', async () => {
    const calls: { id?: string; name?: string; args: string }[] = [];
    let finish: string | null = null;
    for (const c of await openAiChunks(chunk(openAiStreams.parallelToolCalls.frames, { every: 5 }))) {
      for (const tc of c.choices[0]?.delta?.tool_calls ?? []) {
        const call = (calls[tc.index] ??= { args: '' });
        if (tc.id) call.id = tc.id;
        if (tc.function?.name) call.name = tc.function.name;
        call.args += tc.function?.arguments ?? '';
      }
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe('tool_calls');
    expect(calls.map((c) => [c.name, JSON.parse(c.args)])).toEqual([
      ['get_weather', { location: 'Paris, France' }],
      ['get_weather', { location: 'Bogotá, Colombia' }],
    ]);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
  });

  it('n=2 keeps the choices apart by index; keep-alive comments and a server without usage decode cleanly', async () => {
    const text: string[] = [];
    for (const c of await openAiChunks(chunk(openAiStreams.twoChoices.frames, 'bytes1'))) for (const ch of c.choices) text[ch.index] = (text[ch.index] ?? '') + (ch.delta.content ?? '');
    expect(text).toEqual(['Red apple', 'Blue sky']);
    const compat = await openAiChunks(chunk(openAiStreams.keepAliveCompat.frames, 'bytes1'));
    expect(compat.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Grüße aus 東京 👋');
    const noUsage = await openAiChunks(chunk(openAiStreams.toolCallNoUsage.frames, 'whole'));
    expect(noUsage.some((c) => 'usage' in c)).toBe(false);
  });

  it('an error data event after the 200 is thrown by the SDK as APIError with the provider message', async () => {
    const err = await openAiChunks(chunk(openAiStreams.midstreamError.frames, 'bytes1')).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.message).toContain('The server had an error while processing your request');
  });
});

describe('Anthropic fixtures follow the documented event grammar', () => {
  it.each(Object.entries(anthropicStreams))('%s', async (_name, f) => {
    const evs = (await events(chunk(f.frames, { seed: 3, max: 9 }))).map((e) => ({ event: e.event, data: JSON.parse(e.data) }));
    for (const e of evs) expect(e.data.type).toBe(e.event);
    expect(evs[0]!.event).toBe('message_start');
    expect(evs[0]!.data.message.usage).toHaveProperty('cache_read_input_tokens');
    const errored = evs.at(-1)!.event === 'error';
    if (!errored) expect(evs.at(-1)!.event).toBe('message_stop');
    const open = new Map<number, { type: string; json: string; signed: boolean }>();
    let next = 0;
    let deltas = 0;
    for (const { event, data } of evs.filter((e) => e.event !== 'ping')) {
      if (event === 'content_block_start') {
        expect(data.index).toBe(next++);
        open.set(data.index, { type: data.content_block.type, json: '', signed: false });
      } else if (event === 'content_block_delta') {
        const block = open.get(data.index)!;
        expect(block).toBeDefined();
        if (data.delta.type === 'input_json_delta') block.json += data.delta.partial_json;
        if (data.delta.type === 'signature_delta') block.signed = true;
        expect({ text: 'text_delta', tool_use: 'input_json_delta', thinking: block.signed ? 'signature_delta' : 'thinking_delta' }[block.type]).toBe(data.delta.type);
      } else if (event === 'content_block_stop') {
        const block = open.get(data.index)!;
        if (block.type === 'tool_use') expect(() => JSON.parse(block.json)).not.toThrow();
        if (block.type === 'thinking') expect(block.signed).toBe(true);
        open.delete(data.index);
      } else if (event === 'message_delta') {
        deltas++;
        expect(open.size).toBe(0);
        expect(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal']).toContain(data.delta.stop_reason);
        expect(data.usage.output_tokens).toBeGreaterThan(0);
      }
    }
    if (!errored) expect(deltas).toBeGreaterThan(0);
    else expect(evs.at(-1)!.data.error).toEqual({ type: 'overloaded_error', message: 'Overloaded' });
  });
});

describe('Gemini fixtures follow the documented ?alt=sse shape', () => {
  it.each(Object.entries(geminiStreams))('%s', async (_name, f) => {
    const raw = f.frames.at(-1)!.startsWith('{') ? JSON.parse(f.frames.at(-1)!) : undefined;
    if (raw) expect(raw.error).toMatchObject({ code: 500, status: 'INTERNAL' });
    for (const frame of raw ? f.frames.slice(0, -1) : f.frames) expect(frame.endsWith('\r\n\r\n') && !frame.slice(0, -4).includes('\n\n')).toBe(true);
    if (raw) return;
    const bodies = (await events(chunk(f.frames, { seed: 5, max: 13 }))).map((e) => JSON.parse(e.data));
    if (bodies.at(-1)!.error) {
      expect(bodies.at(-1)!.error).toMatchObject({ code: 503, status: 'UNAVAILABLE' });
      return;
    }
    let candidates = 0;
    bodies.forEach((b, i) => {
      const u = b.usageMetadata;
      expect(u.totalTokenCount).toBe(u.promptTokenCount + (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0));
      expect(u.cachedContentTokenCount ?? 0).toBeLessThanOrEqual(u.promptTokenCount);
      expect(u.candidatesTokenCount ?? 0).toBeGreaterThanOrEqual(candidates); // cumulative
      candidates = u.candidatesTokenCount ?? 0;
      const finish = b.candidates?.[0]?.finishReason;
      if (i < bodies.length - 1) expect(finish).toBeUndefined();
      else expect(finish ?? b.promptFeedback?.blockReason).toBeTruthy();
    });
  });
});

describe('the fakes on the wire', () => {
  let openai: FakeUpstream;
  let anthropic: FakeUpstream;
  let gemini: FakeUpstream;
  beforeAll(async () => {
    [openai, anthropic, gemini] = await Promise.all([startOpenAiUpstream({ apiKey: 'sk-test-wire' }), startAnthropicUpstream(), startGeminiUpstream()]);
  });
  afterAll(async () => {
    await Promise.all([openai.close(), anthropic.close(), gemini.close()]);
  });
  const client = (maxRetries = 0) => new OpenAI({ apiKey: 'sk-test-wire', baseURL: openai.baseUrl, maxRetries, timeout: 10_000 });

  it('the openai client reads an echo stream written one byte per write with keep-alives, usage included', async () => {
    const stream = await client().chat.completions.create({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hello wire [[chunk:bytes1]] [[keepalive:1]]' }] });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      usage = c.usage ?? usage;
    }
    expect(text).toBe('Echo: hello wire');
    expect(usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 0 } });
  });

  it('a queued recorded fixture is served as recorded, and a tool-call echo streams argument fragments', async () => {
    openai.serveNext({ stream: openAiStreams.parallelToolCalls, wire: { chunking: { seed: 11, max: 7 } } });
    const recorded = await client().chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'weather?' }] });
    const names: string[] = [];
    for await (const c of recorded) for (const tc of c.choices[0]?.delta?.tool_calls ?? []) if (tc.function?.name) names.push(tc.function.name);
    expect(names).toEqual(['get_weather', 'get_weather']);
    const tools = [{ type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: { text: { type: 'string' } } } } }];
    const echo = await client().chat.completions.create({ model: 'gpt-4o', tools, messages: [{ role: 'user', content: 'find rainbows [[call:lookup]]' }] });
    expect(echo.choices[0]!.finish_reason).toBe('tool_calls');
    const call = echo.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(JSON.parse(call.function.arguments)).toEqual({ text: 'find rainbows' });
    const second = await client().chat.completions.create({
      model: 'gpt-4o', tools,
      messages: [{ role: 'user', content: 'find rainbows [[call:lookup]]' }, echo.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: 'seven colours' }],
    });
    expect(second.choices[0]!.message.content).toBe('Echo: tool seven colours');
  });

  it('recorded error fixtures reach the openai client as its typed errors, with the provider code', async () => {
    openai.serveNext({ error: openAiErrors.insufficientQuota() });
    const quota = await client().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    expect(quota).toBeInstanceOf(OpenAI.RateLimitError);
    expect(quota.code).toBe('insufficient_quota');
    openai.serveNext({ error: openAiErrors.modelNotFound('gpt-9') });
    const missing = await client().chat.completions.create({ model: 'gpt-9', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect(missing.code).toBe('model_not_found');
    // retry-after: 0 on a rate limit: the SDK retries once and then gets the echo.
    openai.serveNext({ error: openAiErrors.rateLimitExceeded({ retryAfter: '0' }) });
    const before = openai.requests.length;
    const ok = await client(1).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'again' }] });
    expect(ok.choices[0]!.message.content).toBe('Echo: again');
    expect(openai.requests.length).toBe(before + 2);
    const badKey = await new OpenAI({ apiKey: 'sk-wrong-key-1234', baseURL: openai.baseUrl, maxRetries: 0 }).models.list().catch((e) => e);
    expect(badKey).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(badKey.code).toBe('invalid_api_key');
  });

  it('n choices are counted in the usage, the output cap answers "length", stream_options without stream is a 400', async () => {
    const two = await client().chat.completions.create({ model: 'gpt-4o-mini', n: 2, messages: [{ role: 'user', content: 'pick colours' }] });
    expect(two.choices.map((c) => [c.index, c.message.content])).toEqual([[0, 'Echo: pick colours'], [1, 'Echo: pick colours']]);
    expect(two.usage).toMatchObject({ completion_tokens: 6 });
    const text: string[] = [];
    const stream = await client().chat.completions.create({ model: 'gpt-4o-mini', n: 3, stream: true, stream_options: { include_usage: true }, max_tokens: 2, messages: [{ role: 'user', content: 'one two three four' }] });
    const finishes: (string | null)[] = [];
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of stream) {
      for (const ch of c.choices) {
        text[ch.index] = (text[ch.index] ?? '') + (ch.delta.content ?? '');
        if (ch.finish_reason) finishes[ch.index] = ch.finish_reason;
      }
      usage = c.usage ?? usage;
    }
    expect(text).toEqual(['Echo: one', 'Echo: one', 'Echo: one']);
    expect(finishes).toEqual(['length', 'length', 'length']);
    expect(usage).toMatchObject({ completion_tokens: 6 });
    const bad = await client().chat.completions.create({ model: 'gpt-4o-mini', stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect(bad.param).toBe('stream_options');
  });

  it('Anthropic max_tokens and Gemini maxOutputTokens cut the reply; Gemini candidateCount and roles', async () => {
    const capped = await fetch(`${anthropic.baseUrl}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 2, messages: [{ role: 'user', content: 'one two three' }] }),
    });
    expect(await capped.json()).toMatchObject({ stop_reason: 'max_tokens', content: [{ type: 'text', text: 'Echo: one' }], usage: { output_tokens: 2 } });
    const gen = (body: object) =>
      fetch(`${gemini.baseUrl}/models/gemini-2.5-flash:generateContent`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => [r.status, await r.json()] as const);
    const [, two] = await gen({ contents: [{ role: 'user', parts: [{ text: 'one two three' }] }], generationConfig: { maxOutputTokens: 2, candidateCount: 2 } });
    expect(two.candidates.map((c: any) => [c.index, c.finishReason, c.content.parts[0].text])).toEqual([[0, 'MAX_TOKENS', 'Echo: one'], [1, 'MAX_TOKENS', 'Echo: one']]);
    expect(two.usageMetadata).toMatchObject({ promptTokenCount: 6, candidatesTokenCount: 4, totalTokenCount: 10 });
    const [status, err] = await gen({ contents: [{ role: 'assistant', parts: [{ text: 'hi' }] }] });
    expect([status, err.error.status]).toEqual([400, 'INVALID_ARGUMENT']);
  });

  it('embeddings answer float and base64 (the SDK default) with usage', async () => {
    const res = await client().embeddings.create({ model: 'text-embedding-3-small', input: ['one two', 'three'] });
    expect(res.data.map((d) => d.index)).toEqual([0, 1]);
    expect(res.data[0]!.embedding).toHaveLength(8);
    expect(res.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    expect(openai.requests.at(-1)!.body.encoding_format).toBe('base64');
  });

  it('a cut after N bytes breaks the openai client mid-stream, after the first content', async () => {
    const stream = await client().chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'cut me off [[cut:600]] [[chunk:every:50]]' }] });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const c of stream) seen.push(c.choices[0]?.delta?.content ?? '');
    })().catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.join('')).not.toBe('Echo: cut me off');
  });

  it('a stall sends one byte and nothing more until the connection closes', async () => {
    const res = await fetch(`${anthropic.baseUrl}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'wait [[stall]]' }] }),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.value).toHaveLength(1);
    const rest = reader.read().then((r) => r, (e: unknown) => ({ error: e }));
    await anthropic.close(); // the only thing that ends a stalled response
    const after = await rest;
    expect('error' in after || after.done).toBe(true);
    anthropic = await startAnthropicUpstream();
  });

  it('Anthropic: a mid-stream overloaded_error event, and a status fault answered with its recorded body and headers', async () => {
    const res = await fetch(`${anthropic.baseUrl}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'hello there [[midstream:4]] [[chunk:bytes1]]' }] }),
    });
    const evs = await events([Buffer.from(await res.arrayBuffer())]);
    expect(evs.map((e) => e.event)).toEqual(['message_start', 'content_block_start', 'ping', 'content_block_delta', 'error']);
    expect(JSON.parse(evs.at(-1)!.data)).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    anthropic.setWire({ fault: { kind: 'status', error: anthropicErrors.rateLimited({ retryAfter: '7' }) } });
    const limited = await fetch(`${anthropic.baseUrl}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    anthropic.setWire({});
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(await limited.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });

  it('Gemini: CRLF-framed SSE with cumulative usage, a JSON array without alt=sse, RetryInfo on 429', async () => {
    const post = (method: string, query: string, text: string) =>
      fetch(`${gemini.baseUrl}/models/gemini-2.5-flash:${method}${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text }] }] }),
      });
    const sseRes = await post('streamGenerateContent', '?alt=sse', 'hi there [[think:12]] [[chunk:bytes1]]');
    const raw = await sseRes.text();
    expect(raw.split('\r\n\r\n').filter(Boolean)).toHaveLength(3);
    const bodies = (await events([Buffer.from(raw)])).map((e) => JSON.parse(e.data));
    expect(bodies.map((b) => b.usageMetadata.candidatesTokenCount)).toEqual([1, 2, 3]);
    expect(bodies.at(-1)!.usageMetadata).toMatchObject({ promptTokenCount: 7, thoughtsTokenCount: 12, totalTokenCount: 22 });
    const array = await (await post('streamGenerateContent', '', 'hi there')).json();
    expect(Array.isArray(array) && array.length).toBe(3);
    gemini.serveNext({ error: geminiErrors.resourceExhausted('17s') });
    const limited = await post('generateContent', '', 'hi');
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as any).error.details).toContainEqual({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '17s' });
    const blocked = await (await post('generateContent', '', 'bad [[blocked]]')).json();
    expect(blocked).toMatchObject({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 } });
    expect(blocked.candidates).toBeUndefined();
  });
});
