import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { geminiBatchEmbedResponse, openAiEmbeddingResponse, vectors } from '../fakes/fixtures/embeddings.js';
import { createTenant } from '../support/tenants.js';
import { addKey, startSurface } from '../support/surface.js';
import { requestLogs, setLimits, settled, usageTotals } from '../support/gateway.js';

/** POST /v1/embeddings with the openai client: OpenAI pass-through, Gemini batchEmbedContents, quotas, usage and request logs. */
const s = await startSurface();
afterAll(() => s.close());

describe('POST /v1/embeddings', () => {
  it('OpenAI: forwarded as sent (the SDK asks for base64 and decodes it); the provider usage is billed and logged', async () => {
    await settled(s.gw, s.database, s.tenant.orgId);
    const before = await usageTotals(s.database, s.tenant.orgId);
    s.up.oai.reply({ json: openAiEmbeddingResponse('base64') });
    const res = await s.client.embeddings.create({ model: 'oai/text-embedding-3-small', input: ['The food was delicious', 'and the waiter'], dimensions: 4 });
    expect(s.up.oai.last()).toMatchObject({ path: '/v1/embeddings', body: { model: 'text-embedding-3-small', input: ['The food was delicious', 'and the waiter'], dimensions: 4, encoding_format: 'base64' } });
    expect(res.data.map((d) => Array.from(d.embedding))).toEqual(vectors);
    expect(res.model).toBe('oai/text-embedding-3-small');
    expect(res.usage).toEqual({ prompt_tokens: 8, total_tokens: 8 });
    await settled(s.gw, s.database, s.tenant.orgId);
    const after = await usageTotals(s.database, s.tenant.orgId);
    expect([after.requests - before.requests, after.prompt - before.prompt, after.completion - before.completion]).toEqual([1, 8, 0]);
    const log = (await requestLogs(s.database, s.tenant.orgId)).find((l) => l.model === 'text-embedding-3-small');
    expect(log).toMatchObject({ provider: 'oai', prompt_tokens: 8, completion_tokens: 0, status: 200, stream: false, key_source: 'byok' });
  });

  it('Gemini: one batchEmbedContents call with outputDimensionality; float and base64 answers; billed from the estimate', async () => {
    s.up.gem.reply({ json: geminiBatchEmbedResponse }, { json: geminiBatchEmbedResponse });
    const floats = await s.client.embeddings.create({ model: 'gem/gemini-embedding-001', input: ['hello world', 'goodbye'], dimensions: 4, encoding_format: 'float' });
    expect(s.up.gem.last()).toMatchObject({
      path: '/v1beta/models/gemini-embedding-001:batchEmbedContents',
      body: { requests: [
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'hello world' }] }, outputDimensionality: 4 },
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'goodbye' }] }, outputDimensionality: 4 },
      ] },
    });
    expect(floats.data.map((d) => d.embedding)).toEqual(vectors);
    // ceil(11 bytes / 3) + 1 + ceil(7 / 3) + 1: Gemini reports no usage, the gateway's estimate is billed.
    expect(floats.usage).toEqual({ prompt_tokens: 9, total_tokens: 9 });
    const decoded = await s.client.embeddings.create({ model: 'gem/gemini-embedding-001', input: 'hello world' });
    expect(decoded.data.map((d) => Array.from(d.embedding))).toEqual(vectors);
  });

  it('a route without embeddings (Anthropic) answers 400 naming the model', async () => {
    const err = await s.client.embeddings.create({ model: 'ant/claude-opus-4-6', input: 'x' }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.param).toBe('model');
    expect(err.code).toBe('unsupported-endpoint');
  });

  it('Gemini token-array input answers 400 on input; user answers 400 unless dropped', async () => {
    const tokens = await s.client.embeddings.create({ model: 'gem/gemini-embedding-001', input: [[1, 2, 3]], encoding_format: 'float' }).catch((e) => e);
    expect(tokens).toBeInstanceOf(OpenAI.BadRequestError);
    expect(tokens.param).toBe('input');
    const user = await s.client.embeddings.create({ model: 'gem/gemini-embedding-001', input: 'x', user: 'u1', encoding_format: 'float' }).catch((e) => e);
    expect(user.param).toBe('user');
    s.up.gem.reply({ json: { embeddings: [{ values: vectors[0] }] } });
    const { response } = await s.client.embeddings.create({ model: 'gem/gemini-embedding-001', input: 'x', user: 'u1', encoding_format: 'float', drop_params: true } as never).withResponse();
    expect(response.headers.get('x-lattice-dropped-params')).toBe('user');
  });

  it('quotas apply: an input over the daily token limit is refused with 429 before the provider is called', async () => {
    const member = await createTenant(s.database, { role: 'member', orgId: s.tenant.orgId });
    await addKey(s.gw, member.token, { provider: 'openai', name: 'oai', api_key: 'sk-proj-member-key-0001', base_url: s.up.oai.baseUrl });
    await setLimits(s.database, s.tenant.orgId, member.userId, { daily_token_limit: 10 });
    const calls = s.up.oai.requests.length;
    const err = await s.gw.client(member.token).embeddings.create({ model: 'oai/text-embedding-3-small', input: 'a sentence that is clearly longer than ten tokens by the estimate' }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.code).toBe('quota-exceeded');
    expect(s.up.oai.requests.length).toBe(calls);
  });
});
