import type { ChatRequest, ProviderKind } from './types.js';

/**
 * Which OpenAI Chat Completions parameters each translating adapter can honour, and within which
 * range. A parameter outside its table (or outside its range) is not silently dropped: the gateway
 * answers 400 naming it, unless the caller opted into dropping (`drop_params`). OpenAI and
 * OpenAI-compatible routes forward the request as sent, so the upstream judges it.
 *
 * Sources: Anthropic Messages https://platform.claude.com/docs/en/api/messages/create (temperature
 * 0–1, no seed/logprobs/n/penalties); Gemini GenerationConfig
 * https://ai.google.dev/api/generate-content#generationconfig (stopSequences up to 5, candidateCount,
 * seed, penalties, responseLogprobs/logprobs, responseMimeType/responseJsonSchema).
 */
type Check = (value: unknown, body: ChatRequest) => string | undefined;

const ok: Check = () => undefined;
const range = (min: number, max: number, what: string): Check => (v) =>
  typeof v === 'number' && (v < min || v > max) ? `${what} accepts ${min} to ${max}` : undefined;
const only = (allowed: unknown[], why: string): Check => (v) => (allowed.includes(v as never) ? undefined : why);
const functionTools: Check = (v) =>
  Array.isArray(v) && v.every((t) => t && typeof t === 'object' && (t as { type?: unknown }).type === 'function')
    ? undefined
    : 'only tools of type "function" can be translated';

/** Present in every request; the gateway itself reads them. */
const ALWAYS = new Set(['model', 'messages', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens', 'drop_params']);

const ANTHROPIC: Record<string, Check> = {
  temperature: range(0, 1, 'Anthropic temperature'),
  top_p: ok,
  stop: ok,
  tools: functionTools,
  tool_choice: ok,
  parallel_tool_calls: ok,
  user: ok,
  reasoning_effort: ok,
  response_format: (v) =>
    (v as { type?: string })?.type === 'json_object'
      ? 'Anthropic structured outputs need a schema: send response_format {type: "json_schema", json_schema: {…}}'
      : undefined,
  n: only([1], 'Anthropic returns one completion per request (n must be 1)'),
  logprobs: only([false], 'Anthropic does not return log probabilities'),
  top_logprobs: only([0], 'Anthropic does not return log probabilities'),
  frequency_penalty: only([0], 'Anthropic has no frequency penalty'),
  presence_penalty: only([0], 'Anthropic has no presence penalty'),
  store: only([false], 'Anthropic does not store completions'),
  modalities: (v) => (Array.isArray(v) && v.every((m) => m === 'text') ? undefined : 'Anthropic answers text only'),
  service_tier: only(['auto', 'default'], 'Anthropic service tiers are not OpenAI service tiers'),
};

const GEMINI: Record<string, Check> = {
  temperature: range(0, 2, 'Gemini temperature'),
  top_p: ok,
  stop: (v) => (Array.isArray(v) && v.length > 5 ? 'Gemini accepts at most 5 stop sequences' : undefined),
  n: range(1, 8, 'Gemini candidateCount'),
  seed: ok,
  frequency_penalty: ok,
  presence_penalty: ok,
  logprobs: ok,
  top_logprobs: range(0, 20, 'Gemini logprobs'),
  response_format: ok,
  tools: functionTools,
  tool_choice: ok,
  parallel_tool_calls: only([true], 'Gemini cannot be told to call one function at a time'),
  reasoning_effort: ok,
  store: only([false], 'Gemini does not store completions'),
  modalities: (v) => (Array.isArray(v) && v.every((m) => m === 'text') ? undefined : 'this route answers text only'),
  service_tier: only(['auto', 'default'], 'Gemini service tiers are not OpenAI service tiers'),
};

const TABLES: Partial<Record<ProviderKind, Record<string, Check>>> = { anthropic: ANTHROPIC, gemini: GEMINI };

export interface Unsupported {
  param: string;
  reason: string;
}

/** The request's parameters this provider cannot honour (null/absent values are never a problem). */
export function unsupportedParams(kind: ProviderKind, body: ChatRequest): Unsupported[] {
  const table = TABLES[kind];
  if (!table) return [];
  const out: Unsupported[] = [];
  for (const [param, value] of Object.entries(body)) {
    if (value === null || value === undefined || ALWAYS.has(param)) continue;
    const check = table[param];
    const reason = check ? check(value, body) : 'the provider has no such parameter';
    if (reason) out.push({ param, reason });
  }
  return out;
}

/** For the README and GET /v1/models/{id}: the parameters a route kind honours beyond the basics. */
export function supportedParams(kind: ProviderKind): string[] | 'all' {
  const table = TABLES[kind];
  return table ? [...ALWAYS].filter((p) => p !== 'drop_params').concat(Object.keys(table)).sort() : 'all';
}
