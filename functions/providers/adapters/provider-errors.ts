import type { ProviderError } from './types.js';

/**
 * Each provider's error body read into one shape, so the gateway can keep the status class and give
 * OpenAI SDKs the `error.code` they branch on. The bodies follow the providers' documented envelopes:
 *   OpenAI    {error: {message, type, param, code}}                       platform.openai.com/docs/guides/error-codes
 *   Anthropic {type: "error", error: {type, message}}                     docs.anthropic.com/en/api/errors
 *   Gemini    {error: {code, message, status, details: [RetryInfo, ErrorInfo…]}}  ai.google.dev/gemini-api/docs/troubleshooting
 *             (google.rpc.Status; RetryInfo.retryDelay is a Duration string such as "37s")
 */
const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** Retry-After as seconds (delta-seconds or an HTTP date), RFC 9110 §10.2.3. */
export function retryAfterHeader(headers: Headers | undefined): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms && /^\d+(\.\d+)?$/.test(ms.trim())) return Number(ms) / 1000;
  const v = headers?.get('retry-after')?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

const CONTEXT = /context.length|context window|maximum context|prompt is too long|too many tokens|exceeds the maximum number of tokens|input token count.*exceeds/i;

export function openAiError(status: number, body: unknown, headers?: Headers): ProviderError {
  const e = obj(obj(body)?.error) ?? {};
  const message = str(e.message) ?? str(obj(body)?.error) ?? str(obj(body)?.message);
  const type = str(e.type);
  let code = str(e.code);
  if (!code && message && CONTEXT.test(message)) code = 'context_length_exceeded';
  if (!code && status === 404) code = 'model_not_found';
  return { type, message, code, retryAfterSeconds: retryAfterHeader(headers) };
}

const ANTHROPIC_CODES: Record<string, string> = {
  authentication_error: 'invalid_api_key',
  permission_error: 'permission_denied',
  not_found_error: 'model_not_found',
  rate_limit_error: 'rate_limit_exceeded',
  overloaded_error: 'overloaded',
  request_too_large: 'request_too_large',
};

export function anthropicError(status: number, body: unknown, headers?: Headers): ProviderError {
  const e = obj(obj(body)?.error) ?? {};
  const type = str(e.type);
  const message = str(e.message);
  let code = type ? ANTHROPIC_CODES[type] : undefined;
  if (type === 'invalid_request_error' && message && CONTEXT.test(message)) code = 'context_length_exceeded';
  // A spend limit is not transient: retrying cannot succeed until someone raises it.
  if (type === 'rate_limit_error' && message && /spend limit|credit balance/i.test(message)) code = 'insufficient_quota';
  if (!code && status === 404) code = 'model_not_found';
  return { type, message, code, retryAfterSeconds: retryAfterHeader(headers) };
}

/** "37s", "1.5s" (protobuf Duration in JSON) → seconds. */
function duration(v: unknown): number | undefined {
  const m = typeof v === 'string' ? v.match(/^(\d+(?:\.\d+)?)s$/) : undefined;
  return m ? Number(m[1]) : undefined;
}

export function geminiError(status: number, body: unknown, headers?: Headers): ProviderError {
  const e = obj(obj(body)?.error) ?? {};
  const type = str(e.status);
  const message = str(e.message);
  const details = Array.isArray(e.details) ? e.details.map(obj).filter((d): d is Record<string, unknown> => !!d) : [];
  const retry = details.find((d) => String(d['@type'] ?? '').endsWith('google.rpc.RetryInfo'));
  const reasons = details.filter((d) => String(d['@type'] ?? '').endsWith('google.rpc.ErrorInfo')).map((d) => String(d.reason ?? ''));
  // Gemini answers a bad key with 400 INVALID_ARGUMENT + ErrorInfo reason API_KEY_INVALID.
  const authFailed = reasons.includes('API_KEY_INVALID') || reasons.includes('API_KEY_EXPIRED') || /API key (not valid|expired)/i.test(message ?? '');
  let code: string | undefined;
  if (authFailed || status === 401) code = 'invalid_api_key';
  else if (status === 403 || type === 'PERMISSION_DENIED') code = 'permission_denied';
  else if (status === 404 || type === 'NOT_FOUND') code = 'model_not_found';
  else if (message && CONTEXT.test(message)) code = 'context_length_exceeded';
  else if (type === 'RESOURCE_EXHAUSTED') code = /billing|prepayment|credits/i.test(message ?? '') ? 'insufficient_quota' : 'rate_limit_exceeded';
  else if (type === 'UNAVAILABLE') code = 'overloaded';
  return { type, message, code, retryAfterSeconds: duration(retry?.retryDelay) ?? retryAfterHeader(headers), ...(authFailed ? { authFailed } : {}) };
}
