import { json, script, sleep, sse, startUpstream, textOf, type FakeUpstream } from './upstream-core.js';

/** Fake Anthropic Messages API: JSON and the SSE event sequence (message_start … message_stop) with usage. */
export async function startAnthropicUpstream(options: { apiKey?: string } = {}): Promise<FakeUpstream> {
  return startUpstream('/v1', async (req, res, control) => {
    if (options.apiKey && req.headers['x-api-key'] !== options.apiKey) {
      return json(res, 401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
    }
    if (!req.headers['anthropic-version']) return json(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'anthropic-version header is required' } });
    if (req.method === 'GET' && req.path.startsWith('/v1/models')) return json(res, 200, { data: [{ id: 'claude-3-5-haiku-latest', type: 'model' }] });
    if (req.method !== 'POST' || req.path !== '/v1/messages') return json(res, 404, { type: 'error', error: { type: 'not_found_error', message: 'not found' } });
    const body = req.body;
    if (typeof body.max_tokens !== 'number') return json(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } });
    const msgs: any[] = body.messages ?? [];
    const lastUser = textOf([...msgs].reverse().find((m) => m.role === 'user')?.content);
    const texts = [...(body.system ? [textOf(body.system)] : []), ...msgs.map((m) => textOf(m.content))];
    const s = script(texts, lastUser);
    const forced = control.failed();
    if (forced || s.fail) {
      const status = forced ?? s.fail!;
      return json(res, status, { type: 'error', error: { type: status === 429 ? 'rate_limit_error' : 'api_error', message: `overloaded ${status}` } });
    }
    if (s.hang) return;
    const id = `msg_fake${Date.now()}`;
    if (!body.stream) {
      return json(res, 200, {
        id, type: 'message', role: 'assistant', model: body.model,
        content: [{ type: 'text', text: s.reply.join('') }],
        stop_reason: 'end_turn', stop_sequence: null,
        usage: { input_tokens: s.promptTokens, output_tokens: s.reply.length },
      });
    }
    sse(res);
    const event = (name: string, data: object) => res.write(`event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`);
    event('message_start', { message: { id, type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, usage: { input_tokens: s.promptTokens, output_tokens: 1 } } });
    event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    event('ping', {});
    for (const word of s.reply) {
      if (res.destroyed) return;
      if (s.slowMs) await sleep(s.slowMs);
      event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: word } });
    }
    event('content_block_stop', { index: 0 });
    event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: s.reply.length } });
    event('message_stop', {});
    res.end();
  });
}
