import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimatePromptTokens } from '../../functions/providers/service/gateway.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant, type TestTenant } from '../support/tenants.js';
import { eventsOf, RECORDED, type Recorded } from '../fakes/fixtures/recorded-streams.js';
import type { Script, ScriptedUpstream } from '../fakes/scripted-upstream.js';
import { requestLogs, settled, startScriptedGateway, usageTotals, type Gateway } from '../support/gateway.js';

/**
 * Streams that fail after the first byte (issue 19 item 5), through the gateway with the official
 * openai client, for every adapter: an error event from the provider, an event that is not JSON, a
 * connection cut before the provider's end marker, and an upstream that goes silent (idle timeout).
 * The client must read every frame translated before the failure, then an error it can read (the
 * SDK raises APIError for a data event carrying `error`), and the call is billed for what was
 * produced. Also: the whole stream from an upstream writing one byte per TCP write.
 */
const { database } = await createTestDatabase();
let upstream: ScriptedUpstream;
let gw: Gateway;
let tenant: TestTenant;

const MODEL: Record<Recorded['kind'], string> = { openai: 'openai/gpt-4o-mini', anthropic: 'anthropic/claude-3-5-haiku-latest', gemini: 'gemini/gemini-2.0-flash' };

beforeAll(async () => {
  ({ upstream, gw } = await startScriptedGateway(database, { envOverrides: { GATEWAY_UPSTREAM_TIMEOUT_MS: '500' } }));
  tenant = await createTenant(database, { role: 'member' });
});
afterAll(async () => {
  await gw.close();
  await upstream.close();
});

/** Per provider: how many recorded events go out before the failure, and the text they carry. */
const PREFIX: Record<Recorded['kind'], { events: number; text: string }> = {
  openai: { events: 3, text: 'Grüße, monde ' },
  anthropic: { events: 4, text: 'Bonjour' },
  gemini: { events: 2, text: 'Hallo Welt, 日本語' },
};

/**
 * The providers' documented mid-stream error events:
 *   OpenAI: a data event with the usual error object (what openai-node's Stream raises as APIError).
 *   Anthropic: `event: error` with {type: "error", error: {type, message}} (docs.anthropic.com/en/api/messages-streaming#error-events).
 *   Gemini: a data event holding a google.rpc.Status (ai.google.dev/gemini-api/docs/troubleshooting).
 */
const ERROR_EVENT: Record<Recorded['kind'], { wire: string; type: string; message: string; code: string }> = {
  openai: {
    wire: `data: ${JSON.stringify({ error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } })}\n\n`,
    type: 'server_error', message: 'The server had an error while processing your request. Sorry about that!', code: 'upstream-stream-error',
  },
  anthropic: {
    wire: `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`,
    type: 'overloaded_error', message: 'Overloaded', code: 'overloaded',
  },
  gemini: {
    wire: `data: ${JSON.stringify({ error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } })}\r\n\r\n`,
    type: 'UNAVAILABLE', message: 'The model is overloaded. Please try again later.', code: 'overloaded',
  },
};

const MALFORMED: Record<Recorded['kind'], string> = {
  openai: 'data: {"id":"chatcmpl-rec1","object":"chat.completion.chunk","choices":[{"delta":{"content":"tr\n\n',
  anthropic: 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_de\n\n',
  gemini: 'data: {"candidates":[{"content":{"parts":[{"text":"tr\r\n\r\n',
};

async function run(model: string, messages: OpenAI.ChatCompletionMessageParam[]) {
  const stream = await gw.client(tenant.token).chat.completions.create({ model, messages, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let usage: OpenAI.CompletionUsage | undefined;
  let finish: string | undefined;
  let error: unknown;
  try {
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
      if (c.usage) usage = c.usage;
    }
  } catch (err) {
    error = err;
  }
  return { text, usage, finish, error: error as InstanceType<typeof OpenAI.APIError> | undefined };
}

const seen = new Set<string>();
/** The request log of the call just made (the tests of this file run one call at a time). */
async function lastLog(): Promise<any> {
  await settled(gw, database, tenant.orgId);
  const fresh = (await requestLogs(database, tenant.orgId)).filter((l) => !seen.has(l.request_id));
  expect(fresh).toHaveLength(1);
  seen.add(fresh[0].request_id);
  return fresh[0];
}

describe.each(RECORDED)('$label stream failing after the first byte', (r) => {
  const prefix = eventsOf(r).slice(0, PREFIX[r.kind].events).join('');
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: `fail midway on ${r.label}` }];
  const promptEstimate = estimatePromptTokens({ model: MODEL[r.kind], messages: messages as any });
  /** Billed output of a cut stream: the provider's partial count or the estimate over what was sent, whichever is larger. */
  const billedCompletion = (partial: number) => Math.max(partial, Math.ceil(PREFIX[r.kind].text.length / 4));
  // What the prefix itself reported: OpenAI nothing (usage comes last), Anthropic message_start, Gemini per-chunk usageMetadata.
  const expectedPrompt = r.kind === 'openai' ? promptEstimate : r.usage.prompt_tokens;
  const partialCompletion = r.kind === 'anthropic' ? 1 : 0;

  async function expectBilled(status: number, errorCode: string) {
    const log = await lastLog();
    expect(log).toMatchObject({ status, error_code: errorCode, stream: true, prompt_tokens: expectedPrompt, completion_tokens: billedCompletion(partialCompletion) });
  }

  it('an error event: the text before it (same TCP read), then the provider type and message', async () => {
    const e = ERROR_EVENT[r.kind];
    upstream.next({ body: prefix + e.wire, writes: 'one', after: 'end' } satisfies Script);
    const got = await run(MODEL[r.kind], messages);
    expect(got.text).toBe(PREFIX[r.kind].text);
    expect(got.error).toBeInstanceOf(OpenAI.APIError);
    expect(got.error).toMatchObject({ message: e.message, type: e.type, code: e.code });
    await expectBilled(502, e.code);
  });

  it('a malformed event (one byte per write): the text before it, then a readable error', async () => {
    upstream.next({ body: prefix + MALFORMED[r.kind], writes: 'bytes', after: 'end' });
    const got = await run(MODEL[r.kind], messages);
    expect(got.text).toBe(PREFIX[r.kind].text);
    expect(got.error).toBeInstanceOf(OpenAI.APIError);
    expect(got.error).toMatchObject({ type: 'malformed_event', code: 'upstream-malformed-event' });
    await expectBilled(502, 'upstream-malformed-event');
  });

  it('a connection cut before the end marker: the text, then upstream-connection-cut', async () => {
    upstream.next({ body: prefix, writes: 'one', after: 'cut' });
    const got = await run(MODEL[r.kind], messages);
    expect(got.text).toBe(PREFIX[r.kind].text);
    expect(got.error).toBeInstanceOf(OpenAI.APIError);
    expect(got.error).toMatchObject({ code: 'upstream-connection-cut' });
    await expectBilled(502, 'upstream-connection-cut');
  });

  it('an upstream that goes silent after the first bytes: the text, then upstream-timeout', async () => {
    upstream.next({ body: prefix, writes: 'one', after: 'stall' });
    const got = await run(MODEL[r.kind], messages);
    expect(got.text).toBe(PREFIX[r.kind].text);
    expect(got.error).toBeInstanceOf(OpenAI.APIError);
    expect(got.error).toMatchObject({ code: 'upstream-timeout' });
    await expectBilled(504, 'upstream-timeout');
  });

  it('the whole stream from an upstream writing one byte per TCP write', async () => {
    upstream.next({ body: r.wire, writes: 'bytes', after: 'end' });
    const got = await run(MODEL[r.kind], messages);
    expect(got.error).toBeUndefined();
    expect(got.text).toBe(r.text);
    expect(got.finish).toBe(r.finish);
    expect(got.usage).toMatchObject({ prompt_tokens: r.usage.prompt_tokens, completion_tokens: r.usage.completion_tokens, prompt_tokens_details: { cached_tokens: r.usage.cached ?? 0 } });
    const log = await lastLog();
    expect(log).toMatchObject({ status: 200, prompt_tokens: r.usage.prompt_tokens, completion_tokens: r.usage.completion_tokens });
  });
});

describe('accounting over the failures', () => {
  it('Σ request_logs tokens = Σ usage_tracking', async () => {
    await settled(gw, database, tenant.orgId);
    const logs = await requestLogs(database, tenant.orgId);
    const usage = await usageTotals(database, tenant.orgId);
    expect(logs).toHaveLength(RECORDED.length * 5);
    expect(usage.requests).toBe(logs.length);
    expect(logs.reduce((s, l) => s + Number(l.prompt_tokens), 0)).toBe(usage.prompt);
    expect(logs.reduce((s, l) => s + Number(l.completion_tokens), 0)).toBe(usage.completion);
    expect(logs.reduce((s, l) => s + Number(l.cost_micros), 0)).toBe(usage.cost);
  });
});
