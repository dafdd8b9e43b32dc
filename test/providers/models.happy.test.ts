import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { anthropicTextMessage } from '../fakes/fixtures/anthropic-tools.js';
import { geminiText } from '../fakes/fixtures/gemini-tools.js';
import { anthropicModelList, geminiModelList, openAiModelList } from '../fakes/fixtures/model-lists.js';
import { startReplayUpstream } from '../fakes/replay-upstream.js';
import { addKey, startSurface } from '../support/surface.js';

/**
 * GET /v1/models lists the catalog and the caller's own routes (`<key name>/<model>`, from the
 * provider's own list, cached); GET /v1/models/{id}; a bare model name resolves when exactly one of
 * the caller's routes offers it.
 */
const s = await startSurface();
afterAll(() => s.close());

describe('models', () => {
  it('GET /v1/models: catalog models and each key\'s routes from its provider\'s list, asked once per TTL', async () => {
    s.up.ant.reply({ json: anthropicModelList(['claude-opus-4-6', 'claude-haiku-4-5']) });
    s.up.gem.reply({ json: geminiModelList(['gemini-3-flash-preview', 'gemini-embedding-001']) });
    s.up.oai.reply({ json: openAiModelList(['gpt-4o-mini', 'text-embedding-3-small']) });
    const ids: string[] = [];
    for await (const m of s.client.models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining([
      'openai/gpt-4o-mini', 'anthropic/claude-sonnet-4-0', 'gemini/gemini-2.5-pro',
      'ant/claude-opus-4-6', 'ant/claude-haiku-4-5', 'gem/gemini-3-flash-preview', 'gem/gemini-embedding-001', 'oai/gpt-4o-mini', 'oai/text-embedding-3-small',
    ]));
    expect(s.up.ant.last()).toMatchObject({ method: 'GET', path: '/v1/models?limit=1000', headers: { 'x-api-key': 'sk-ant-api03-surface-test-key', 'anthropic-version': '2023-06-01' } });
    expect(s.up.gem.last()).toMatchObject({ method: 'GET', path: '/v1beta/models?pageSize=1000', headers: { 'x-goog-api-key': 'AIzaSySurfaceTestKey000000' } });
    const asked = s.up.ant.requests.length + s.up.gem.requests.length + s.up.oai.requests.length;
    const again: string[] = [];
    for await (const m of s.client.models.list()) again.push(m.id);
    expect(again).toEqual(ids);
    expect(s.up.ant.requests.length + s.up.gem.requests.length + s.up.oai.requests.length).toBe(asked);
  });

  it('GET /v1/models/{id} answers one model (ids with a slash); an unknown one 404 in the OpenAI shape', async () => {
    const model = await s.client.models.retrieve('ant/claude-opus-4-6');
    expect(model).toMatchObject({ id: 'ant/claude-opus-4-6', object: 'model', owned_by: 'ant' });
    expect(await s.client.models.retrieve('openai/gpt-4o')).toMatchObject({ id: 'openai/gpt-4o', owned_by: 'openai' });
    const err = await s.client.models.retrieve('ant/claude-nonexistent').catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.code).toBe('model-not-found');
  });

  it('a bare model name resolves to the one route offering it', async () => {
    s.up.gem.reply({ json: geminiText('hi from gemini') });
    const c = await s.client.chat.completions.create({ model: 'gemini-3-flash-preview', messages: [{ role: 'user', content: 'hi' }] });
    expect(c.choices[0]!.message.content).toBe('hi from gemini');
    expect(c.model).toBe('gemini-3-flash-preview');
    expect(s.up.gem.last().path).toBe('/v1beta/models/gemini-3-flash-preview:generateContent');
    s.up.ant.reply({ json: anthropicTextMessage('hi from claude') });
    const a = await s.client.chat.completions.create({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }] });
    expect(a.choices[0]!.message.content).toBe('hi from claude');
    expect((await s.client.models.retrieve('gemini-3-flash-preview')).id).toBe('gem/gemini-3-flash-preview');
  });

  it('a bare name several routes offer, or none, answers 404 naming the candidates', async () => {
    const compat = await startReplayUpstream('/openai/v1');
    compat.reply({ json: openAiModelList(['gpt-4o-mini', 'meta-llama/Llama-3.3-70B-Instruct']) });
    await addKey(s.gw, s.tenant.token, { provider: 'openai_compatible', name: 'groq', api_key: 'gsk_surface_test_key_0000', base_url: compat.baseUrl });
    s.up.ant.reply({ json: anthropicModelList(['claude-opus-4-6', 'claude-haiku-4-5']) });
    s.up.gem.reply({ json: geminiModelList(['gemini-3-flash-preview']) });
    s.up.oai.reply({ json: openAiModelList(['gpt-4o-mini']) });
    const err = await s.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.message).toContain('groq/gpt-4o-mini');
    expect(err.message).toContain('oai/gpt-4o-mini');
    const none = await s.client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    expect(none).toBeInstanceOf(OpenAI.NotFoundError);
    expect(none.message).toMatch(/no route of yours offers model "no-such-model"/);
    // A model id with its own slash, served by a compatible server, resolves as a bare name too.
    compat.reply({ json: { id: 'x', object: 'chat.completion', created: 1, model: 'meta-llama/Llama-3.3-70B-Instruct', choices: [{ index: 0, message: { role: 'assistant', content: 'llama' }, finish_reason: 'stop' }] } });
    const llama = await s.client.chat.completions.create({ model: 'meta-llama/Llama-3.3-70B-Instruct', messages: [{ role: 'user', content: 'hi' }] });
    expect(llama.choices[0]!.message.content).toBe('llama');
    expect(compat.last().body.model).toBe('meta-llama/Llama-3.3-70B-Instruct');
    await compat.close();
  });
});
