import { json, script, serveQueued, startUpstream, textOf, type FakeOptions, type FakeUpstream } from './upstream-core.js';
import { writeError, writeFrames } from './wire.js';
import {
  choicesStream, completionBody, embeddingsBody, openAiErrors, openAiHeaders, openAiJson, openAiProfile, openAiStreamHeaders, toolCallStream,
  type ChunkHead, type StreamedToolCall,
} from './fixtures/openai.js';

/**
 * Fake OpenAI API (also any OpenAI-compatible server): Chat Completions (JSON and SSE, `stream_options.include_usage`
 * adds the `choices: []` usage chunk), Embeddings (float or base64), Models; errors in OpenAI's recorded shapes
 * (fixtures/openai.ts). With `apiKey` set, other keys get OpenAI's 401 `invalid_api_key`, which echoes a masked key.
 *
 * `n` gives n choices (usage counts all of them); `max_completion_tokens` / `max_tokens` cut the reply (one token per
 * word) with finish_reason "length"; `stream_options` without `stream` is OpenAI's 400.
 *
 * Tools: when the request has `tools` and the last user message says `[[call:NAME]]` (repeatable: parallel calls),
 * the answer calls NAME with `{"text": "<the message>"}`, arguments streamed in fragments. When the conversation
 * ends with `role: "tool"` messages, the answer is `Echo: tool <content>...`.
 */
export async function startOpenAiUpstream(options: FakeOptions = {}): Promise<FakeUpstream> {
  return startUpstream(
    '/v1',
    async (req, res, control) => {
      const auth = String(req.headers.authorization ?? '');
      if (options.apiKey && auth !== `Bearer ${options.apiKey}`) return writeError(res, openAiErrors.invalidApiKey(auth.slice(7)));
      const path = req.path.split('?')[0]!;
      if (req.method === 'GET' && path === '/v1/models') return json(res, 200, openAiJson.models.body, openAiJson.models.headers);
      const forced = control.failed();
      if (forced) return writeError(res, failure(forced));
      const queued = await serveQueued(res, control.next(), openAiProfile, control);
      if (queued === true) return;
      if (req.method === 'POST' && path === '/v1/embeddings') return embeddings(req.body, res);
      if (req.method !== 'POST' || path !== '/v1/chat/completions') {
        return json(res, 404, { error: { message: `Invalid URL (${req.method} ${path})`, type: 'invalid_request_error', param: null, code: null } });
      }
      const body = req.body;
      if (body.stream_options && !body.stream) {
        return writeError(res, openAiErrors.invalidParam('stream_options', "The 'stream_options' parameter is only allowed when 'stream' is enabled."));
      }
      const msgs: any[] = body.messages ?? [];
      const lastUser = textOf([...msgs].reverse().find((m) => m.role === 'user')?.content);
      const s = script(msgs.map((m) => textOf(m.content)), lastUser);
      if (s.fail) return writeError(res, failure(s.fail));
      if (s.hang) return; // never answers
      const wire = control.wire({ ...(queued ?? {}), ...s.wire });
      const head: ChunkHead = { id: `chatcmpl-fake${Date.now()}`, created: Math.floor(Date.now() / 1000), model: body.model, includeUsage: !!body.stream_options?.include_usage };
      const toolResults = trailingToolResults(msgs);
      const calls = body.tools?.length && !toolResults.length ? toolCalls(lastUser) : [];
      const full = toolResults.length ? ['Echo:', ...toolResults.map((t) => ` tool ${t}`)] : s.reply;
      // The output cap (one token per word here) cuts the reply and answers finish_reason "length", as the API does.
      const cap = Number(body.max_completion_tokens ?? body.max_tokens ?? Infinity);
      const reply = full.slice(0, cap);
      const finish = s.finish ?? (reply.length < full.length ? 'length' : 'stop');
      const n = calls.length ? 1 : Math.max(1, Number(body.n ?? 1));
      const completionTokens = calls.length ? calls.reduce((k, c) => k + c.fragments.length + 2, 0) : n * reply.length;
      const usage = { prompt_tokens: s.promptTokens, completion_tokens: completionTokens };
      if (!body.stream) {
        const message = calls.length
          ? { content: null, tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.fragments.join('') } })) }
          : { content: reply.join('') };
        return json(res, 200, completionBody(body.model, message, calls.length ? 'tool_calls' : finish, usage, n), openAiHeaders({ 'content-type': 'application/json' }));
      }
      const frames = calls.length ? toolCallStream(head, calls, usage) : choicesStream(head, n, reply, usage, finish);
      await writeFrames(res, frames, openAiProfile, wire, openAiStreamHeaders());
    },
    options.wire,
  );
}

/** The recorded error for a status the tests ask for (429s carry retry-after: 0 to keep retry tests fast). */
function failure(status: number) {
  switch (status) {
    case 400: return openAiErrors.contextLengthExceeded();
    case 401: return openAiErrors.invalidApiKey();
    case 404: return openAiErrors.modelNotFound();
    case 429: return openAiErrors.rateLimitExceeded({ retryAfter: '0' });
    case 503: return openAiErrors.overloaded();
    default: return { ...openAiErrors.serverError('req_org_12345'), status };
  }
}

function trailingToolResults(msgs: any[]): string[] {
  const out: string[] = [];
  for (let i = msgs.length - 1; i >= 0 && msgs[i]?.role === 'tool'; i--) out.unshift(textOf(msgs[i].content));
  return out;
}

function toolCalls(lastUser: string): StreamedToolCall[] {
  const names = [...lastUser.matchAll(/\[\[call:([A-Za-z0-9_-]+)\]\]/g)].map((m) => m[1]!);
  const text = lastUser.replace(/\[\[[^\]]*\]\]/g, '').trim();
  return names.map((name, i) => {
    const args = JSON.stringify({ text });
    const third = Math.max(1, Math.floor(args.length / 3));
    return { id: `call_fake${i}`, name, fragments: [args.slice(0, third), args.slice(third, 2 * third), args.slice(2 * third)] };
  });
}

/** Deterministic vectors from the input text, one token per word (EMBED). */
function embeddings(body: any, res: import('node:http').ServerResponse) {
  const inputs: string[] = Array.isArray(body?.input) ? body.input.map(String) : [String(body?.input ?? '')];
  if (inputs.some((t) => t === '')) return writeError(res, openAiErrors.invalidParam('input'));
  const dims = Number(body?.dimensions ?? 8);
  const vectors = inputs.map((t) => Array.from({ length: dims }, (_, d) => Number(((((t.length + 1) * (d + 7)) % 97) / 97 - 0.5).toFixed(6))));
  const tokens = inputs.reduce((n, t) => n + t.split(/\s+/).filter(Boolean).length, 0);
  const format = body?.encoding_format === 'base64' ? 'base64' : 'float';
  json(res, 200, embeddingsBody(body?.model, vectors, tokens, format), openAiHeaders({ 'content-type': 'application/json' }));
}
