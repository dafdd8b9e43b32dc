import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAiError } from '../../functions/providers/adapters/provider-errors.js';
import { callUpstream, scrub } from '../../functions/providers/service/upstream.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant, type TestTenant } from '../support/tenants.js';
import type { ScriptedUpstream } from '../fakes/scripted-upstream.js';
import { requestLogs, settled, startScriptedGateway, type Gateway } from '../support/gateway.js';

/**
 * Upstream refusals keep their meaning (DESIGN.md §4): the status class, the provider's message and
 * OpenAI's `code`, a retry hint where the provider gave one, and retries only where they can help.
 * The client is the official openai SDK WITH its default retries (2), to show that the gateway's
 * `x-should-retry: false` stops the SDK from multiplying upstream calls (openai-node
 * src/client.ts shouldRetry() obeys that header before looking at the status).
 * Error bodies follow each provider's documented envelope (see adapters/provider-errors.ts).
 */
const { database } = await createTestDatabase();
let upstream: ScriptedUpstream;
let gw: Gateway;
let tenant: TestTenant;

beforeAll(async () => {
  ({ upstream, gw } = await startScriptedGateway(database));
  tenant = await createTenant(database, { role: 'member' });
});
afterAll(async () => {
  await gw.close();
  await upstream.close();
});

const sdk = () => new OpenAI({ apiKey: tenant.token, baseURL: `${gw.url}/v1`, maxRetries: 2, timeout: 20_000 });
const call = (model: string) => sdk().chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).then(() => undefined, (e: InstanceType<typeof OpenAI.APIError>) => e);
const json = (status: number, body: unknown, headers: Record<string, string> = {}) => ({ status, body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

/** Upstream calls made during fn. */
async function counted<T>(fn: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const before = upstream.requests.length;
  const result = await fn();
  return { result, calls: upstream.requests.length - before };
}

describe('an upstream 4xx keeps its class', () => {
  it("OpenAI 400 context_length_exceeded: 400 with OpenAI's code and message", async () => {
    const message = "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens. Please reduce the length of the messages.";
    upstream.next(json(400, { error: { message, type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } }));
    const { result: err, calls } = await counted(() => call('openai/gpt-4o-mini'));
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err!.code).toBe('context_length_exceeded');
    expect(err!.message).toContain(message);
    expect(calls).toBe(1);
  });

  it('Anthropic 400 "prompt is too long" maps to context_length_exceeded', async () => {
    upstream.next(json(400, { type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 208310 tokens > 200000 maximum' }, request_id: 'req_011' }));
    const err = await call('anthropic/claude-3-5-haiku-latest');
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ status: 400, code: 'context_length_exceeded' });
    expect(err!.message).toContain('prompt is too long: 208310 tokens > 200000 maximum');
  });

  it('a provider 401 answers 401 upstream-auth-failed and the SDK does not retry it', async () => {
    upstream.next(json(401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } }));
    const { result: err, calls } = await counted(() => call('anthropic/claude-3-5-haiku-latest'));
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err!.code).toBe('upstream-auth-failed');
    expect(calls).toBe(1);
  });

  it('a provider 403 stays 403', async () => {
    upstream.next(json(403, { error: { code: 403, message: 'Method doesn\'t allow unregistered callers.', status: 'PERMISSION_DENIED' } }));
    const err = await call('gemini/gemini-2.0-flash');
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(err!.code).toBe('upstream-auth-failed');
  });

  it("Gemini's 400 API_KEY_INVALID is an auth failure: 401", async () => {
    upstream.next(json(400, { error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }] } }));
    const err = await call('gemini/gemini-2.0-flash');
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err!.code).toBe('upstream-auth-failed');
  });

  it('OpenAI 404 model_not_found answers 404 model_not_found', async () => {
    upstream.next(json(404, { error: { message: 'The model `gpt-9` does not exist or you do not have access to it.', type: 'invalid_request_error', param: null, code: 'model_not_found' } }));
    const err = await call('openai/gpt-4o-mini');
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err!.code).toBe('model_not_found');
    expect(err!.message).toContain('does not exist');
  });
});

describe('429 and overload', () => {
  it("OpenAI insufficient_quota is not retried by anyone: one upstream call, 429 with OpenAI's code", async () => {
    upstream.next(json(429, { error: { message: 'You exceeded your current quota, please check your plan and billing details.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } }));
    const { result: err, calls } = await counted(() => call('openai/gpt-4o-mini'));
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err!.code).toBe('insufficient_quota');
    expect(err!.headers?.get('x-should-retry')).toBe('false');
    expect(calls).toBe(1);
  });

  it('a transient 429 within the cap is retried by the gateway, honouring Retry-After', async () => {
    upstream.next(json(429, { error: { message: 'Rate limit reached for gpt-4o-mini', type: 'requests', param: null, code: 'rate_limit_exceeded' } }, { 'retry-after': '0' }));
    upstream.next({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }) });
    const { result, calls } = await counted(() => sdk().chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }));
    expect(result.choices[0]!.message.content).toBe('ok');
    expect(calls).toBe(2);
  });

  it("Gemini RetryInfo beyond the gateway's cap is handed to the client as Retry-After, not waited out", async () => {
    upstream.next(json(429, {
      error: {
        code: 429, message: 'You exceeded your current quota. Please retry in 37.5s.', status: 'RESOURCE_EXHAUSTED',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '37s' }],
      },
    }));
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gemini/gemini-2.0-flash', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('37');
    expect(((await res.json()) as any).error.code).toBe('rate_limit_exceeded');
  });

  it('Anthropic 529 overloaded: the gateway retries, then answers 503 overloaded with x-should-retry: false (3 upstream calls, not 9)', async () => {
    for (let i = 0; i < 3; i++) upstream.next(json(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
    const { result: err, calls } = await counted(() => call('anthropic/claude-3-5-haiku-latest'));
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect(err).toMatchObject({ status: 503, code: 'overloaded' });
    expect(err!.headers?.get('x-should-retry')).toBe('false');
    expect(calls).toBe(3);
  });

  it('failed calls are logged with their status and cost nothing', async () => {
    await settled(gw, database, tenant.orgId);
    const logs = await requestLogs(database, tenant.orgId);
    const failed = logs.filter((l) => l.status !== 200);
    expect(failed.map((l) => l.status).sort()).toEqual([400, 400, 401, 401, 403, 404, 429, 429, 503]);
    expect(failed.every((l) => l.prompt_tokens === 0 && l.completion_tokens === 0 && l.cost_micros === 0)).toBe(true);
  });
});

describe('callUpstream retries', () => {
  const req = () => ({ url: `${upstream.baseUrl('/v1')}/chat/completions`, method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: '{}' });
  const overloaded = (retryAfter: string) => json(503, { error: { message: 'overloaded', type: 'server_error' } }, { 'retry-after': retryAfter });

  it('a Retry-After within the cap but past the overall deadline is not waited out', async () => {
    upstream.next(overloaded('3'));
    const { result, calls } = await counted(() => callUpstream(req(), { timeoutMs: 10_000, maxRetries: 5, baseDelayMs: 1, maxDelayMs: 5_000, deadlineMs: 1_000 }, undefined, openAiError));
    expect(result).toMatchObject({ kind: 'response', attempts: 1, retried: false });
    expect(calls).toBe(1);
    if (result.kind === 'response') expect(result.response.status).toBe(503);
  });

  it('a Retry-After above the cap is handed back, the body still readable', async () => {
    upstream.next(overloaded('30'));
    const { result, calls } = await counted(() => callUpstream(req(), { timeoutMs: 10_000, maxRetries: 5, baseDelayMs: 1, maxDelayMs: 5_000, deadlineMs: 60_000 }, undefined, openAiError));
    expect(calls).toBe(1);
    if (result.kind !== 'response') throw new Error(result.kind);
    expect(((await result.response.json()) as any).error.message).toBe('overloaded');
  });

  it('a 400 is never retried', async () => {
    upstream.next(json(400, { error: { message: 'bad', type: 'invalid_request_error' } }));
    const { result, calls } = await counted(() => callUpstream(req(), { timeoutMs: 10_000, maxRetries: 5, baseDelayMs: 1, maxDelayMs: 5 }, undefined, openAiError));
    expect(calls).toBe(1);
    expect(result).toMatchObject({ kind: 'response', attempts: 1 });
  });
});

describe('scrub', () => {
  const key = 'my-own-secret-credential-77';
  it('removes the key itself and the known key shapes', () => {
    expect(scrub(`bad key ${key} sent`, key)).toBe('bad key [redacted] sent');
    expect(scrub('Incorrect API key provided: sk-proj-abcd************************************wxyz.', key)).toBe('Incorrect API key provided: [redacted].');
    expect(scrub('key sk-ant-api03-AbCdEf_123-xyz rejected', key)).toBe('key [redacted] rejected');
    expect(scrub('API key AIzaSyA-1234567890abcdefghijklmnopqrstu invalid', key)).toBe('API key [redacted] invalid');
    expect(scrub('header Authorization: Bearer eyJhbGciOi.x-y_z= was refused', key)).toBe('header Authorization: [redacted] was refused');
  });

  it('leaves everything else alone', () => {
    for (const text of [
      'skeleton property keywords_allowed',
      'prompt is too long: 208310 tokens > 200000 maximum',
      'Invalid value for messages[0].content: expected a string, got 0123456789abcdef0123456789abcdef0123',
      'the bearer of the request and the risk-free sk8 park',
    ]) expect(scrub(text, key)).toBe(text);
  });
});
