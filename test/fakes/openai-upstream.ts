import { json, script, sleep, sse, startUpstream, textOf, type FakeUpstream } from './upstream-core.js';

/**
 * Fake OpenAI Chat Completions API (also serves as any OpenAI-compatible server): JSON and SSE with
 * `stream_options.include_usage` (usage in a last chunk with empty choices), errors in OpenAI's shape.
 * With `apiKey` set, other keys get 401 with a message that echoes part of the key, as OpenAI does.
 */
export async function startOpenAiUpstream(options: { apiKey?: string } = {}): Promise<FakeUpstream> {
  return startUpstream('/v1', async (req, res, control) => {
    const auth = String(req.headers.authorization ?? '');
    if (options.apiKey && auth !== `Bearer ${options.apiKey}`) {
      return json(res, 401, { error: { message: `Incorrect API key provided: ${auth.slice(7, 14)}...${auth.slice(-4)}.`, type: 'invalid_request_error', code: 'invalid_api_key' } });
    }
    if (req.method === 'GET' && req.path === '/v1/models') return json(res, 200, { object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model' }] });
    if (req.method !== 'POST' || req.path !== '/v1/chat/completions') return json(res, 404, { error: { message: 'not found', type: 'invalid_request_error' } });
    const body = req.body;
    const msgs: any[] = body.messages ?? [];
    const lastUser = textOf([...msgs].reverse().find((m) => m.role === 'user')?.content);
    const s = script(msgs.map((m) => textOf(m.content)), lastUser);
    const forced = control.failed();
    if (forced || s.fail) {
      const status = forced ?? s.fail!;
      return json(res, status, { error: { message: `upstream failure ${status} (org-secret-id org_12345)`, type: 'server_error' } }, status === 429 ? { 'retry-after': '0' } : {});
    }
    if (s.hang) return; // never answers
    const id = `chatcmpl-fake${Date.now()}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = { prompt_tokens: s.promptTokens, completion_tokens: s.reply.length, total_tokens: s.promptTokens + s.reply.length };
    if (!body.stream) {
      return json(res, 200, {
        id, object: 'chat.completion', created, model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: s.reply.join(''), refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage, system_fingerprint: 'fp_fake',
      });
    }
    sse(res);
    const chunk = (delta: object, finish: string | null, extra: object = {}) =>
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra })}\n\n`);
    chunk({ role: 'assistant', content: '' }, null);
    for (const word of s.reply) {
      if (res.destroyed) return;
      if (s.slowMs) await sleep(s.slowMs);
      chunk({ content: word }, null);
    }
    chunk({}, 'stop');
    if (body.stream_options?.include_usage) {
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [], usage })}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  });
}
