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

/**
 * Usage in OpenAI's terms: `prompt_tokens` counts every input token (cache reads and writes included),
 * `completion_tokens` every output token (reasoning included). The optional members break those totals
 * down by price class (service/quota.ts prices each class); absent means zero.
 */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  /** Of prompt_tokens: read from the provider's prompt cache (OpenAI cached_tokens, Anthropic cache_read_input_tokens, Gemini cachedContentTokenCount). */
  cached_tokens?: number;
  /** Of prompt_tokens: written to the cache (Anthropic cache_creation_input_tokens). */
  cache_write_tokens?: number;
  /** Of completion_tokens: reasoning / thinking (OpenAI reasoning_tokens, Gemini thoughtsTokenCount). */
  reasoning_tokens?: number;
}

/**
 * What a provider said when it refused a call (HTTP error body) or failed inside a stream (error event),
 * read by the adapter's `error()`. `message` is the provider's own text, not yet scrubbed.
 */
export interface ProviderError {
  /** The provider's error type (`invalid_request_error`, `overloaded_error`, `RESOURCE_EXHAUSTED`…). */
  type?: string;
  message?: string;
  /** OpenAI's `error.code` for it: `context_length_exceeded`, `insufficient_quota`, `model_not_found`, `invalid_api_key`… */
  code?: string;
  /** The provider's retry hint in seconds (Retry-After header, Gemini RetryInfo.retryDelay). */
  retryAfterSeconds?: number;
  /** The key itself is refused (a 400 from Gemini with API_KEY_INVALID is an auth failure, not a bad request). */
  authFailed?: boolean;
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
  /**
   * Output cap the reservation was sized for (the client's, else the model's catalog maximum, else the
   * key's default). Sent upstream only when the client gave one or the provider requires one
   * (Anthropic's `max_tokens`); otherwise the provider's own default applies.
   */
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
  /**
   * Characters generated so far: text, refusals and tool-call names and arguments (bills a stream
   * whose provider reported no usage, e.g. a cut stream or a server that ignores stream_options).
   */
  producedChars(): number;
  /**
   * True once the provider signalled a normal end (OpenAI `[DONE]` or a finish reason, Anthropic
   * `message_stop`, Gemini `finishReason`): an upstream that closes before that was cut.
   */
  ended(): boolean;
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
  /** Reads the provider's error body (HTTP error answer, or the data of a mid-stream error event). */
  error(status: number, body: unknown, headers?: Headers): ProviderError;
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

/** Usage as OpenAI reports it (the details objects are always present, as OpenAI sends them). */
export function openAiUsage(usage: Partial<Usage>): Record<string, unknown> {
  const p = usage.prompt_tokens ?? 0;
  const c = usage.completion_tokens ?? 0;
  return {
    prompt_tokens: p,
    completion_tokens: c,
    total_tokens: p + c,
    prompt_tokens_details: { cached_tokens: usage.cached_tokens ?? 0, ...(usage.cache_write_tokens ? { cache_write_tokens: usage.cache_write_tokens } : {}) },
    completion_tokens_details: { reasoning_tokens: usage.reasoning_tokens ?? 0 },
  };
}

export function usageChunk(ctx: StreamContext, usage: Partial<Usage>): Record<string, unknown> {
  return { id: ctx.id, object: 'chat.completion.chunk', created: ctx.created, model: ctx.model, choices: [], usage: openAiUsage(usage) };
}

export function completionBody(ctx: StreamContext, content: string, finishReason: string, usage: Usage | undefined): Record<string, unknown> {
  return {
    id: ctx.id,
    object: 'chat.completion',
    created: ctx.created,
    model: ctx.model,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: finishReason }],
    ...(usage ? { usage: openAiUsage(usage) } : {}),
  };
}

/**
 * The most tokens one usage number may claim (2^31 - 1): far above any model's context, and safe through
 * the cost arithmetic and the settle statement's bigint columns. A provider (or a user's base URL)
 * answering 1e19 would otherwise fail the cross-tenant settle batch it lands in.
 */
export const MAX_USAGE_TOKENS = 2 ** 31 - 1;

export const nonNegInt = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.min(Math.floor(v), MAX_USAGE_TOKENS) : undefined;

/**
 * The provider failed inside an already started stream (an error event, or an event that cannot be
 * read). The gateway forwards `error.type` and the scrubbed `error.message` to the client.
 */
export class UpstreamStreamError extends Error {
  override name = 'UpstreamStreamError';
  constructor(readonly error: ProviderError) {
    super(error.message ?? 'the provider failed mid-stream');
  }
}
