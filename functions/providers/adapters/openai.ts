import { openAiError } from './provider-errors.js';
import {
  joinUrl, nonNegInt, textOf, UpstreamStreamError,
  type Adapter, type BuildArgs, type ProviderKind, type StreamContext, type StreamTranslator, type Usage,
} from './types.js';

/**
 * OpenAI Chat Completions, and any OpenAI-compatible server (`openai_compatible`): the request passes
 * through with the upstream model id; streams ask for `stream_options.include_usage` so streamed calls
 * are billed from the provider's own usage, and that usage chunk reaches the client only if it asked.
 */
export function openAiAdapter(kind: Extract<ProviderKind, 'openai' | 'openai_compatible'> = 'openai'): Adapter {
  return {
    kind,
    build({ baseUrl, apiKey, model, body, stream }: BuildArgs) {
      // No output cap is injected: without one the model may use its whole output budget, which is
      // what the reservation was sized for (the catalog maximum or the key's default).
      const out: Record<string, unknown> = { ...body, model, stream };
      if (stream) out.stream_options = { ...(body.stream_options ?? {}), include_usage: true };
      else delete out.stream_options;
      return {
        url: joinUrl(baseUrl, '/chat/completions'),
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json', authorization: `Bearer ${apiKey}` },
        body: JSON.stringify(out),
      };
    },
    parse(json, ctx) {
      const body: Record<string, unknown> = { ...(json as Record<string, unknown>), model: ctx.model };
      const usage = readUsage(body.usage);
      return { body, usage };
    },
    stream(ctx: StreamContext): StreamTranslator {
      let usage: Partial<Usage> = {};
      let chars = 0;
      let ended = false;
      return {
        push(ev) {
          if (ev.data === '[DONE]') {
            ended = true;
            return [];
          }
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(ev.data) as Record<string, unknown>;
          } catch {
            throw new UpstreamStreamError({ type: 'malformed_event', message: 'the provider sent an event that is not JSON' });
          }
          // OpenAI reports a failure inside a stream as a data event carrying `error` (what its SDK reads).
          if (parsed.error) throw new UpstreamStreamError(openAiError(200, parsed));
          const u = readUsage(parsed.usage);
          if (u) usage = u;
          const choices = Array.isArray(parsed.choices) ? (parsed.choices as { delta?: unknown; finish_reason?: unknown }[]) : [];
          for (const c of choices) {
            chars += deltaChars(c?.delta);
            if (c?.finish_reason) ended = true;
          }
          if (!ctx.includeUsage) {
            if (!choices.length && parsed.usage) return [];
            delete parsed.usage;
          }
          return [{ ...parsed, model: ctx.model }];
        },
        finish: () => [],
        usage: () => usage,
        producedChars: () => chars,
        ended: () => ended,
      };
    },
    error: openAiError,
    verify(baseUrl, apiKey) {
      return { url: joinUrl(baseUrl, '/models'), method: 'GET', headers: { authorization: `Bearer ${apiKey}` } };
    },
  };
}

/** OpenAI usage, with the cached prompt and reasoning breakdowns (both included in the totals). */
export function readUsage(u: unknown): Usage | undefined {
  if (!u || typeof u !== 'object') return undefined;
  const r = u as Record<string, any>;
  const p = nonNegInt(r.prompt_tokens);
  const c = nonNegInt(r.completion_tokens);
  if (p === undefined && c === undefined) return undefined;
  const cached = nonNegInt(r.prompt_tokens_details?.cached_tokens);
  const reasoning = nonNegInt(r.completion_tokens_details?.reasoning_tokens);
  return { prompt_tokens: p ?? 0, completion_tokens: c ?? 0, ...(cached ? { cached_tokens: cached } : {}), ...(reasoning ? { reasoning_tokens: reasoning } : {}) };
}

/** Generated characters in one streamed delta: text, refusal, reasoning text and tool-call names/arguments. */
export function deltaChars(delta: unknown): number {
  if (!delta || typeof delta !== 'object') return 0;
  const d = delta as Record<string, any>;
  let n = textOf(d.content).length + (typeof d.refusal === 'string' ? d.refusal.length : 0) + (typeof d.reasoning_content === 'string' ? d.reasoning_content.length : 0);
  for (const t of Array.isArray(d.tool_calls) ? d.tool_calls : []) {
    n += String(t?.function?.name ?? '').length + String(t?.function?.arguments ?? '').length;
  }
  return n;
}
