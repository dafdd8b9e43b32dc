import { anthropicRequest } from './anthropic-request.js';
import { choiceChunk, completionWithChoices, type ToolCall } from './openai-shapes.js';
import { anthropicError } from './provider-errors.js';
import {
  chunk, joinUrl, nonNegInt, openAiUsage, usageChunk, UpstreamStreamError,
  type Adapter, type StreamContext, type StreamTranslator, type Usage,
} from './types.js';

const VERSION = '2023-06-01';

/** https://platform.claude.com/docs/en/api/handling-stop-reasons */
const FINISH: Record<string, string> = {
  end_turn: 'stop', stop_sequence: 'stop', pause_turn: 'stop', max_tokens: 'length', model_context_window_exceeded: 'length',
  tool_use: 'tool_calls', refusal: 'content_filter',
};

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

type ContentBlock = { type?: string; text?: string; thinking?: string; id?: string; name?: string; input?: unknown };

export function anthropicAdapter(): Adapter {
  return {
    kind: 'anthropic',
    build({ baseUrl, apiKey, model, body, stream, maxTokens }) {
      return {
        url: joinUrl(baseUrl, '/messages'),
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey, 'anthropic-version': VERSION },
        body: JSON.stringify(anthropicRequest(body, model, maxTokens, stream)),
      };
    },
    parse(json, ctx) {
      const msg = json as { content?: ContentBlock[]; stop_reason?: string; usage?: Record<string, unknown> };
      const blocks = msg.content ?? [];
      const text = blocks.filter((b) => b?.type === 'text').map((b) => b.text ?? '').join('');
      const reasoning = blocks.filter((b) => b?.type === 'thinking').map((b) => b.thinking ?? '').join('');
      const toolCalls: ToolCall[] = blocks
        .filter((b) => b?.type === 'tool_use')
        .map((b) => ({ id: String(b.id), type: 'function', function: { name: String(b.name), arguments: JSON.stringify(b.input ?? {}) } }));
      const input = inputUsage(msg.usage);
      const c = nonNegInt(msg.usage?.output_tokens);
      const usage = input.prompt_tokens === undefined && c === undefined ? undefined : { ...input, prompt_tokens: input.prompt_tokens ?? 0, completion_tokens: c ?? 0 };
      const finishReason = FINISH[msg.stop_reason ?? ''] ?? 'stop';
      const body = completionWithChoices(ctx, [{ index: 0, content: text, toolCalls, reasoning, finishReason }], usage ? openAiUsage(usage) : undefined);
      return { body, usage };
    },
    stream(ctx: StreamContext): StreamTranslator {
      let usage: Partial<Usage> = {};
      let chars = 0;
      let ended = false;
      // Content block index → OpenAI tool_calls index (tool_use blocks only, in order).
      const toolIndex = new Map<number, number>();
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
            case 'content_block_start': {
              const block = data.content_block as ContentBlock | undefined;
              if (block?.type !== 'tool_use') return [];
              const index = toolIndex.size;
              toolIndex.set(Number(data.index), index);
              chars += String(block.name ?? '').length;
              // https://platform.claude.com/docs/en/build-with-claude/streaming#input-json-delta
              return [choiceChunk(ctx, 0, { tool_calls: [{ index, id: String(block.id), type: 'function', function: { name: String(block.name), arguments: '' } }] })];
            }
            case 'content_block_delta': {
              const delta = data.delta as { type?: string; text?: string; partial_json?: string; thinking?: string } | undefined;
              if (delta?.type === 'text_delta' && delta.text) {
                chars += delta.text.length;
                return [chunk(ctx, { content: delta.text })];
              }
              if (delta?.type === 'input_json_delta' && delta.partial_json) {
                const index = toolIndex.get(Number(data.index));
                if (index === undefined) return [];
                chars += delta.partial_json.length;
                return [choiceChunk(ctx, 0, { tool_calls: [{ index, function: { arguments: delta.partial_json } }] })];
              }
              if (delta?.type === 'thinking_delta' && delta.thinking) {
                chars += delta.thinking.length;
                return [chunk(ctx, { reasoning_content: delta.thinking })];
              }
              return [];
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
