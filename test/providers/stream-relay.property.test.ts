import fc from 'fast-check';
import type OpenAI from 'openai';
import { Stream } from 'openai/streaming';
import { describe, expect, it } from 'vitest';
import { adapterFor, type StreamContext, type Usage } from '../../functions/providers/adapters/index.js';
import { streamResponse } from '../../functions/providers/service/gateway.js';
import { IdleTimer } from '../../functions/providers/service/upstream.js';
import { anthropicProfile, anthropicStreams } from '../fakes/fixtures/anthropic.js';
import { geminiProfile, geminiStreams } from '../fakes/fixtures/gemini.js';
import { openAiProfile, openAiStreams } from '../fakes/fixtures/openai.js';
import { arrange, chunk, type StreamFixture, type WireProfile } from '../fakes/wire.js';
import { eventsOf, RECORDED, type Recorded } from '../fakes/fixtures/recorded-streams.js';

/**
 * The gateway's SSE relay (gateway.ts streamResponse) fed each provider's recorded stream cut the way
 * TCP may cut it: at every byte boundary, one byte per read, and at random points with the provider's
 * keep-alives interleaved. Reads that translate to nothing must not stall the relay (a ReadableStream
 * pull that enqueues nothing is never called again): a stall would leave the read below waiting
 * until the test times out. The client side is the openai SDK's own SSE reader.
 */
const enc = new TextEncoder();

interface Relayed {
  raw: string;
  settled: { usage: Usage; status: number; errorCode: string | null };
}

async function relay(r: Pick<Recorded, 'kind'>, chunks: Uint8Array[], includeUsage = true): Promise<Relayed> {
  const queue = [...chunks];
  // One chunk per read, as a socket delivers them.
  const upstream = new ReadableStream<Uint8Array>({
    pull(c) {
      const next = queue.shift();
      if (next) c.enqueue(next);
      else c.close();
    },
  });
  const ctx: StreamContext = { model: `${r.kind}/recorded`, id: 'chatcmpl-relay', created: 1764720000, includeUsage };
  let settled: Relayed['settled'] | undefined;
  const res = streamResponse(
    adapterFor(r.kind),
    ctx,
    { kind: 'response', response: new Response(upstream), attempts: 1, timer: new IdleTimer(new AbortController(), 60_000), abort: () => {}, retried: false },
    999,
    async (usage, status, errorCode) => {
      settled = { usage, status, errorCode };
    },
    {},
    'sk-relay-secret-0000',
  );
  const raw = await res.text();
  return { raw, settled: settled! };
}

async function clientChunks(raw: string): Promise<OpenAI.ChatCompletionChunk[]> {
  const out: OpenAI.ChatCompletionChunk[] = [];
  for await (const c of Stream.fromSSEResponse<OpenAI.ChatCompletionChunk>(new Response(raw), new AbortController())) out.push(c);
  return out;
}

function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    if (p > at) out.push(bytes.slice(at, p));
    at = p;
  }
  return out;
}

describe.each(RECORDED)('relaying the recorded $label stream', (r) => {
  const bytes = enc.encode(r.wire);
  let baseline: Relayed;

  it('in one read: the openai client reads the text, the finish reason, the usage in OpenAI shape, then [DONE]', async () => {
    baseline = await relay(r, [bytes]);
    expect(baseline.raw.endsWith('data: [DONE]\n\n')).toBe(true);
    const chunks = await clientChunks(baseline.raw);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(r.text);
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual([r.finish]);
    const usage = chunks.at(-1)!.usage!;
    expect(usage).toMatchObject({
      prompt_tokens: r.usage.prompt_tokens,
      completion_tokens: r.usage.completion_tokens,
      total_tokens: r.usage.prompt_tokens + r.usage.completion_tokens,
      prompt_tokens_details: { cached_tokens: r.usage.cached ?? 0 },
      completion_tokens_details: { reasoning_tokens: r.usage.reasoning ?? 0 },
    });
    expect(baseline.settled).toMatchObject({ status: 200, errorCode: null, usage: { prompt_tokens: r.usage.prompt_tokens, completion_tokens: r.usage.completion_tokens } });
  });

  it('split at every byte boundary: the same bytes reach the client and the same usage is billed', async () => {
    for (let i = 1; i < bytes.length; i++) {
      const got = await relay(r, [bytes.slice(0, i), bytes.slice(i)]);
      expect(got.raw, `split at byte ${i}`).toBe(baseline.raw);
      expect(got.settled).toEqual(baseline.settled);
    }
  });

  it('one byte per read', async () => {
    const got = await relay(r, [...bytes].map((b) => Uint8Array.of(b)));
    expect(got.raw).toBe(baseline.raw);
    expect(got.settled).toEqual(baseline.settled);
  });

  it('random cuts with keep-alives interleaved between events', async () => {
    const events = eventsOf(r);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: 3 }), { minLength: events.length + 1, maxLength: events.length + 1 }), fc.array(fc.nat(), { maxLength: 40 }), async (alive, cuts) => {
        // keep-alives before each event and after the last one
        const wire = events.map((e, i) => r.keepAlive.repeat(alive[i]!) + e).join('') + r.keepAlive.repeat(alive[events.length]!);
        const got = await relay(r, splitAt(enc.encode(wire), cuts));
        expect(got.raw).toBe(baseline.raw);
        expect(got.settled).toEqual(baseline.settled);
      }),
      { numRuns: 150 },
    );
  });

  it('without include_usage the client gets no usage chunk, and the call is still billed from the provider usage', async () => {
    const got = await relay(r, [...bytes].map((b) => Uint8Array.of(b)), false);
    const chunks = await clientChunks(got.raw);
    expect(chunks.every((c) => !c.usage)).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(r.text);
    expect(got.raw.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(got.settled).toEqual(baseline.settled);
  });
});

/**
 * Every recorded stream of the provider fakes (test/fakes/fixtures, each citing its doc page: tool calls,
 * thinking, cache usage, n=2, refusals, prompt blocks, mid-stream errors…) relayed whole, one frame per
 * write, one byte per write and at seeded random cuts, with and without the provider's keep-alives: the
 * client gets the same bytes and the same usage is billed every time. Streams that end normally end with
 * [DONE]; the mid-stream error fixtures end with one error event the openai client raises.
 */
const FIXTURES: { kind: Recorded['kind']; profile: WireProfile; fixture: StreamFixture }[] = [
  ...Object.values(openAiStreams).map((fixture) => ({ kind: 'openai' as const, profile: openAiProfile, fixture })),
  ...Object.values(anthropicStreams).map((fixture) => ({ kind: 'anthropic' as const, profile: anthropicProfile, fixture })),
  ...Object.values(geminiStreams).map((fixture) => ({ kind: 'gemini' as const, profile: geminiProfile, fixture })),
];

/** Gemini has no tool-call ids: the adapter makes up a random one per call, so only its presence is compared. */
const sameIds = (r: Relayed): Relayed => ({ ...r, raw: r.raw.replace(/"id":"call_[A-Za-z0-9_-]+/g, '"id":"call_*') });

describe.each(FIXTURES.map((f) => [f.fixture.name, f] as const))('the fakes\' recorded stream "%s"', (_name, { kind, profile, fixture }) => {
  it('reaches the client identically however TCP cuts it and with keep-alives interleaved', async () => {
    const baseline = sameIds(await relay({ kind }, chunk(fixture.frames, 'whole')));
    // The fixtures that fail after the 200: an error event, or (Gemini) a google.rpc.Status printed raw.
    const failed = /error|overloaded|rpc\.Status/i.test(fixture.name);
    if (failed) {
      const err = await clientChunks(baseline.raw).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      // the provider's own message, not a generic one
      expect((err as Error).message).not.toMatch(/mid-stream|connection/);
      expect(baseline.settled.status).toBe(502);
    } else {
      expect(baseline.raw.endsWith('data: [DONE]\n\n')).toBe(true);
      expect(baseline.settled).toMatchObject({ status: 200, errorCode: null });
      // Every chunk the client reads is a chat.completion.chunk of this call.
      expect((await clientChunks(baseline.raw)).every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    }
    for (const chunking of ['frames', 'bytes1'] as const) {
      const got = sameIds(await relay({ kind }, chunk(fixture.frames, chunking)));
      expect(got.raw, chunking).toBe(baseline.raw);
      expect(got.settled).toEqual(baseline.settled);
    }
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 48 }), fc.integer({ min: 0, max: 3 }), async (seed, max, every) => {
        const frames = arrange(fixture.frames, profile, every ? { keepAliveEvery: every } : {});
        const got = sameIds(await relay({ kind }, chunk(frames, { seed, max })));
        expect(got.raw).toBe(baseline.raw);
        expect(got.settled).toEqual(baseline.settled);
      }),
      { numRuns: 40 },
    );
  });
});
