import {
  chunk, completionBody, joinUrl, nonNegInt, stopList, textOf, usageChunk, UpstreamStreamError,
  type Adapter, type ChatRequest, type StreamContext, type StreamTranslator, type Usage,
} from './types.js';
import { anthropicError } from './provider-errors.js';

const VERSION = '2023-06-01';

const FINISH: Record<string, string> = { end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length', tool_use: 'tool_calls', refusal: 'content_filter' };

/** OpenAI messages → Messages API: system/developer turns become `system`, tool results become user turns. */
function toMessages(body: ChatRequest) {
  const system: string[] = [];
  const messages: { role: 'user' | 'assistant'; content: string }[] = [];
  for (const m of body.messages) {
    const text = textOf(m.content);
    if (m.role === 'system' || m.role === 'developer') system.push(text);
    else messages.push({ role: m.role === 'assistant' ? 'assistant' : 'user', content: text });
  }
  return { system: system.length ? system.join('\n\n') : undefined, messages };
}

/**
 * Anthropic's `input_tokens` excludes the cache: prompt_tokens = input + cache writes + cache reads, with
 * the reads and writes kept apart because they are priced apart (docs.anthropic.com/en/docs/build-with-claude/prompt-caching).
 */
function inputUsage(u: Record<string, unknown> | undefined): Partial<Usage> {
  const base = nonNegInt(u?.input_tokens);
  if (base === undefined) return {};
  const write = nonNegInt(u?.cache_creation_input_tokens) ?? 0;
  const read = nonNegInt(u?.cache_read_input_tokens) ?? 0;
  return { prompt_tokens: base + write + read, ...(read ? { cached_tokens: read } : {}), ...(write ? { cache_write_tokens: write } : {}) };
}

export function anthropicAdapter(): Adapter {
  return {
    kind: 'anthropic',
    build({ baseUrl, apiKey, model, body, stream, maxTokens }) {
      const { system, messages } = toMessages(body);
      const out: Record<string, unknown> = {
        model,
        max_tokens: body.max_completion_tokens ?? body.max_tokens ?? maxTokens,
        messages,
        ...(system ? { system } : {}),
        ...(body.temperature != null ? { temperature: body.temperature } : {}),
        ...(body.top_p != null ? { top_p: body.top_p } : {}),
        ...(stopList(body.stop) ? { stop_sequences: stopList(body.stop) } : {}),
        ...(stream ? { stream: true } : {}),
      };
      return {
        url: joinUrl(baseUrl, '/messages'),
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey, 'anthropic-version': VERSION },
        body: JSON.stringify(out),
      };
    },
    parse(json, ctx) {
      const msg = json as { content?: { type?: string; text?: string }[]; stop_reason?: string; usage?: Record<string, unknown> };
      const text = (msg.content ?? []).filter((b) => b?.type === 'text').map((b) => b.text ?? '').join('');
      const input = inputUsage(msg.usage);
      const c = nonNegInt(msg.usage?.output_tokens);
      const usage = input.prompt_tokens === undefined && c === undefined ? undefined : { ...input, prompt_tokens: input.prompt_tokens ?? 0, completion_tokens: c ?? 0 };
      return { body: completionBody(ctx, text, FINISH[msg.stop_reason ?? ''] ?? 'stop', usage), usage };
    },
    stream(ctx: StreamContext): StreamTranslator {
      let usage: Partial<Usage> = {};
      let chars = 0;
      let ended = false;
      return {
        push(ev) {
          let data: Record<string, any>;
          try {
            data = JSON.parse(ev.data) as Record<string, any>;
          } catch {
            throw new UpstreamStreamError({ type: 'malformed_event', message: 'the provider sent an event that is not JSON' });
          }
          switch (ev.event ?? data.type) {
            case 'message_start': {
              const u = data.message?.usage as Record<string, unknown> | undefined;
              usage = { ...usage, ...inputUsage(u) };
              const c = nonNegInt(u?.output_tokens);
              if (c !== undefined) usage.completion_tokens = c;
              return [chunk(ctx, { role: 'assistant', content: '' })];
            }
            case 'content_block_delta': {
              const text = data.delta?.type === 'text_delta' ? String(data.delta.text ?? '') : '';
              if (!text) return [];
              chars += text.length;
              return [chunk(ctx, { content: text })];
            }
            case 'message_delta': {
              // output_tokens here is cumulative for the message.
              const c = nonNegInt(data.usage?.output_tokens);
              if (c !== undefined) usage.completion_tokens = c;
              // Recent API versions repeat the (cumulative) input counts here; a 0 is not a correction.
              const input = inputUsage(data.usage);
              if (input.prompt_tokens) usage = { ...usage, ...input };
              const reason = data.delta?.stop_reason as string | undefined;
              return reason ? [chunk(ctx, {}, FINISH[reason] ?? 'stop')] : [];
            }
            case 'message_stop':
              ended = true;
              return [];
            case 'error':
              // e.g. {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}} (docs.anthropic.com/en/docs/build-with-claude/streaming#error-events)
              throw new UpstreamStreamError(anthropicError(200, data));
            default:
              return [];
          }
        },
        finish: () => (ended && ctx.includeUsage ? [usageChunk(ctx, usage)] : []),
        usage: () => usage,
        producedChars: () => chars,
        ended: () => ended,
      };
    },
    error: anthropicError,
    verify(baseUrl, apiKey) {
      return { url: joinUrl(baseUrl, '/models?limit=1'), method: 'GET', headers: { 'x-api-key': apiKey, 'anthropic-version': VERSION } };
    },
  };
}
