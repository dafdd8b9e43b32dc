import { json, script, serveQueued, startUpstream, textOf, type FakeOptions, type FakeUpstream } from './upstream-core.js';
import { writeError, writeFrames } from './wire.js';
import { anthropicErrors, anthropicHeaders, anthropicJson, anthropicProfile, anthropicStreamHeaders, messageBody, messageStream, type StreamBlock } from './fixtures/anthropic.js';

/**
 * Fake Anthropic Messages API: JSON and the documented SSE event order (message_start, content_block_start, ping,
 * deltas, content_block_stop, message_delta with cumulative usage, message_stop), errors in Anthropic's recorded
 * shapes (fixtures/anthropic.ts). Validates what the real API rejects: no `anthropic-version`, no `max_tokens`,
 * `temperature` outside 0..1.
 *
 * Tools: with `tools` in the request and `[[call:NAME]]` in the last user message, the answer is a tool_use block
 * (input streamed as input_json_delta fragments). A conversation ending in `tool_result` blocks gets
 * `Echo: tool <content>...`. `[[cache:N]]` reports N cache-read input tokens (taken out of input_tokens, as the
 * API counts them).
 */
export async function startAnthropicUpstream(options: FakeOptions = {}): Promise<FakeUpstream> {
  return startUpstream(
    '/v1',
    async (req, res, control) => {
      // The documented header is x-api-key; @anthropic-ai/sdk 1.x sends the same key as `Authorization: Bearer` (client apiKeyAuth).
      const key = req.headers['x-api-key'] ?? String(req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (options.apiKey && key !== options.apiKey) return writeError(res, anthropicErrors.authentication());
      if (!req.headers['anthropic-version']) return writeError(res, anthropicErrors.invalidRequest('anthropic-version: header is required'));
      const path = req.path.split('?')[0]!;
      if (req.method === 'GET' && path.startsWith('/v1/models')) return json(res, 200, anthropicJson.models.body, anthropicJson.models.headers);
      const forced = control.failed();
      if (forced) return writeError(res, failure(forced));
      const queued = await serveQueued(res, control.next(), anthropicProfile, control);
      if (queued === true) return;
      if (req.method !== 'POST' || path !== '/v1/messages') return writeError(res, { ...anthropicErrors.notFound(), body: { type: 'error', error: { type: 'not_found_error', message: 'Not Found' } } });
      const body = req.body;
      if (typeof body.max_tokens !== 'number') return writeError(res, anthropicErrors.invalidRequest('max_tokens: Field required'));
      if (typeof body.temperature === 'number' && (body.temperature < 0 || body.temperature > 1)) {
        return writeError(res, anthropicErrors.invalidRequest('temperature: range: 0..1'));
      }
      const msgs: any[] = body.messages ?? [];
      const lastUserMsg = [...msgs].reverse().find((m) => m.role === 'user');
      const toolResults = trailingToolResults(lastUserMsg);
      const lastUser = textOf(lastUserMsg?.content);
      const texts = [...(body.system ? [textOf(body.system)] : []), ...msgs.map((m) => textOf(m.content))];
      const s = script(texts, lastUser);
      if (s.fail) return writeError(res, failure(s.fail));
      if (s.hang) return;
      const wire = control.wire({ ...(queued ?? {}), ...s.wire });
      const calls = body.tools?.length && !toolResults.length ? toolUses(lastUser) : [];
      const full = toolResults.length ? ['Echo:', ...toolResults.map((t) => ` tool ${t}`)] : s.reply;
      const reply = full.slice(0, body.max_tokens); // one token per word: the cap cuts the reply, stop_reason max_tokens
      const capped = reply.length < full.length;
      const cached = Math.min(Number(lastUser.match(/\[\[cache:(\d+)\]\]/)?.[1] ?? 0), s.promptTokens);
      const outputTokens = calls.length ? calls.reduce((n, c) => n + c.fragments.length + 2, 0) : reply.length;
      const usage = { input_tokens: s.promptTokens - cached, cache_read_input_tokens: cached, output_tokens: outputTokens };
      const stop = calls.length ? 'tool_use' : (s.finish ?? (capped ? 'max_tokens' : 'end_turn'));
      if (!body.stream) {
        const content = calls.length
          ? calls.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: JSON.parse(c.fragments.join('')) }))
          : [{ type: 'text', text: reply.join('') }];
        return json(res, 200, { ...messageBody(body.model, content, stop, usage), id: `msg_fake${Date.now()}` }, anthropicHeaders({ 'content-type': 'application/json' }));
      }
      const blocks: StreamBlock[] = calls.length ? calls : [{ type: 'text', pieces: reply }];
      await writeFrames(res, messageStream({ id: `msg_fake${Date.now()}`, model: body.model, usage, blocks, stop_reason: stop }), anthropicProfile, wire, anthropicStreamHeaders());
    },
    options.wire,
  );
}

function failure(status: number) {
  switch (status) {
    case 400: return anthropicErrors.promptTooLong();
    case 401: return anthropicErrors.authentication();
    case 403: return anthropicErrors.permission();
    case 404: return anthropicErrors.notFound();
    case 413: return anthropicErrors.requestTooLarge();
    case 429: return anthropicErrors.rateLimited({ retryAfter: '0' });
    case 529: return anthropicErrors.overloaded();
    default: return { ...anthropicErrors.apiError(), status };
  }
}

function trailingToolResults(lastUser: any): string[] {
  if (!Array.isArray(lastUser?.content)) return [];
  return lastUser.content.filter((b: any) => b?.type === 'tool_result').map((b: any) => textOf(b.content));
}

function toolUses(lastUser: string): Extract<StreamBlock, { type: 'tool_use' }>[] {
  const names = [...lastUser.matchAll(/\[\[call:([A-Za-z0-9_-]+)\]\]/g)].map((m) => m[1]!);
  const text = lastUser.replace(/\[\[[^\]]*\]\]/g, '').trim();
  return names.map((name, i) => {
    const args = JSON.stringify({ text });
    const third = Math.max(1, Math.floor(args.length / 3));
    return { type: 'tool_use', id: `toolu_fake${i}`, name, fragments: [args.slice(0, third), args.slice(third, 2 * third), args.slice(2 * third)] };
  });
}
