/**
 * The adapter port: each upstream wire format (OpenAI, Anthropic Messages, Gemini generateContent)
 * translated to and from OpenAI's Chat Completions shape, which is what the gateway speaks.
 */
export type ProviderKind = 'openai' | 'anthropic' | 'gemini' | 'openai_compatible';
export const PROVIDER_KINDS = ['openai', 'anthropic', 'gemini', 'openai_compatible'] as const;

export interface ChatMessage {
  role: string;
  content?: unknown;
  [k: string]: unknown;
}

/** The OpenAI request as the client sent it (unknown members pass through to OpenAI-compatible upstreams). */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  stop?: string | string[] | null;
  [k: string]: unknown;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface UpstreamRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

export interface BuildArgs {
  baseUrl: string;
  apiKey: string;
  /** The upstream model id (without the `<route>/` prefix). */
  model: string;
  body: ChatRequest;
  stream: boolean;
  /** Output cap the reservation was sized for; sent when the client gave none. */
  maxTokens: number;
}

/** A non-streamed answer, already in OpenAI's shape, with the usage the provider reported. */
export interface Completion {
  body: Record<string, unknown>;
  usage?: Usage;
}

export interface SseEvent {
  event?: string;
  data: string;
}

/** Translates one upstream stream into OpenAI chunks and keeps the provider's usage. */
export interface StreamTranslator {
  /** Zero or more OpenAI `chat.completion.chunk` objects for one upstream event. */
  push(event: SseEvent): Record<string, unknown>[];
  /** Chunks to send once the upstream ended (e.g. the usage chunk). */
  finish(): Record<string, unknown>[];
  /** Usage as the provider reported it so far (partial when the stream was cut). */
  usage(): Partial<Usage>;
  /** Characters of generated text sent so far (bills a cut stream when no usage arrived). */
  producedChars(): number;
}

export interface StreamContext {
  /** The model name as the client addressed it (`<route>/<model>`), echoed in responses. */
  model: string;
  id: string;
  created: number;
  includeUsage: boolean;
}

export interface Adapter {
  readonly kind: ProviderKind;
  build(args: BuildArgs): UpstreamRequest;
  parse(json: unknown, ctx: StreamContext): Completion;
  stream(ctx: StreamContext): StreamTranslator;
  /** A cheap authenticated call that proves a key works (lists models). */
  verify(baseUrl: string, apiKey: string): UpstreamRequest;
}

/** Joins the text parts of an OpenAI message content (string or array of parts). */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : ''))
      .join('');
  }
  return '';
}

export const joinUrl = (base: string, path: string) => `${base.replace(/\/+$/, '')}${path}`;

export function stopList(stop: ChatRequest['stop']): string[] | undefined {
  if (stop == null) return undefined;
  return Array.isArray(stop) ? stop : [stop];
}

export function chunk(ctx: StreamContext, delta: Record<string, unknown>, finishReason: string | null = null): Record<string, unknown> {
  return {
    id: ctx.id,
    object: 'chat.completion.chunk',
    created: ctx.created,
    model: ctx.model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
}

export function usageChunk(ctx: StreamContext, usage: Partial<Usage>): Record<string, unknown> {
  const p = usage.prompt_tokens ?? 0;
  const c = usage.completion_tokens ?? 0;
  return { id: ctx.id, object: 'chat.completion.chunk', created: ctx.created, model: ctx.model, choices: [], usage: { prompt_tokens: p, completion_tokens: c, total_tokens: p + c } };
}

export function completionBody(ctx: StreamContext, content: string, finishReason: string, usage: Usage | undefined): Record<string, unknown> {
  return {
    id: ctx.id,
    object: 'chat.completion',
    created: ctx.created,
    model: ctx.model,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: finishReason }],
    ...(usage ? { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } } : {}),
  };
}

export const nonNegInt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined);

/** The provider reported an error inside an already started stream. Its message is not forwarded. */
export class UpstreamStreamError extends Error {
  override name = 'UpstreamStreamError';
}
