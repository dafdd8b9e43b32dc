import { randomBytes } from 'node:crypto';
import type { ChatMessage, ChatRequest, StreamContext } from './types.js';

/**
 * The OpenAI Chat Completions shapes the translating adapters read and write (tools, tool calls,
 * content parts), per https://platform.openai.com/docs/api-reference/chat/create.
 */
export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface FunctionTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean | null };
  [k: string]: unknown;
}

export type ContentPart =
  | { type: 'text'; text: string; [k: string]: unknown }
  | { type: 'image_url'; image_url: { url: string; detail?: string }; [k: string]: unknown }
  | { type: string; [k: string]: unknown };

export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

export const toolsOf = (body: ChatRequest): FunctionTool[] => (Array.isArray(body.tools) ? (body.tools as FunctionTool[]) : []);
export const toolCallsOf = (m: ChatMessage): ToolCall[] => (Array.isArray(m.tool_calls) ? (m.tool_calls as ToolCall[]) : []);

/** A message's content as parts (a plain string is one text part). */
export function partsOf(content: unknown): ContentPart[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  return Array.isArray(content) ? (content as ContentPart[]).filter((p) => p && typeof p === 'object') : [];
}

/** `data:<mime>;base64,<data>` → its parts; undefined for anything else (an http(s) URL). */
export function parseDataUri(url: string): { mediaType: string; data: string } | undefined {
  const m = /^data:([^;,]+)(?:;[^;,=]+=[^;,]*)*;base64,(.*)$/s.exec(url);
  return m ? { mediaType: m[1]!.toLowerCase(), data: m[2]! } : undefined;
}

const IMAGE_EXT: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', heic: 'image/heic', heif: 'image/heif' };
export function mimeFromUrl(url: string): string | undefined {
  const ext = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase();
  return ext ? IMAGE_EXT[ext] : undefined;
}

/** Tool call ids for providers that have none (Gemini): OpenAI's `call_` + 24 random characters. */
export const newToolCallId = () => `call_${randomBytes(18).toString('base64url')}`;

/** Tool arguments as an object: the model's JSON string parsed; anything else is a client error. */
export function parseArguments(args: string | undefined): Record<string, unknown> | undefined {
  if (args === undefined || args.trim() === '') return {};
  try {
    const v = JSON.parse(args) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function choiceChunk(ctx: StreamContext, index: number, delta: Record<string, unknown>, finishReason: string | null = null): Record<string, unknown> {
  return { id: ctx.id, object: 'chat.completion.chunk', created: ctx.created, model: ctx.model, choices: [{ index, delta, logprobs: null, finish_reason: finishReason }] };
}

export interface TranslatedChoice {
  index: number;
  content: string | null;
  toolCalls: ToolCall[];
  reasoning?: string;
  finishReason: string;
  logprobs?: unknown;
}

/** A non-streamed chat.completion with any number of choices. */
export function completionWithChoices(ctx: StreamContext, choices: TranslatedChoice[], usage: Record<string, unknown> | undefined): Record<string, unknown> {
  return {
    id: ctx.id,
    object: 'chat.completion',
    created: ctx.created,
    model: ctx.model,
    choices: choices.map((c) => ({
      index: c.index,
      message: {
        role: 'assistant',
        // OpenAI answers content null when the turn is only tool calls.
        content: c.content === '' && c.toolCalls.length ? null : c.content,
        refusal: null,
        ...(c.toolCalls.length ? { tool_calls: c.toolCalls } : {}),
        ...(c.reasoning ? { reasoning_content: c.reasoning } : {}),
      },
      logprobs: c.logprobs ?? null,
      finish_reason: c.finishReason,
    })),
    ...(usage ? { usage } : {}),
  };
}

/** Request content an adapter cannot translate (e.g. an audio part for Anthropic): the gateway answers 400 naming `param`. */
export class UnsupportedInput extends Error {
  override name = 'UnsupportedInput';
  constructor(
    readonly param: string,
    reason: string,
  ) {
    super(reason);
  }
}
