import { HttpProblem, type ErrorCatalog } from '../../shared/http/index.js';

/** The providers function's stable error codes (problem `type` suffixes), in one place. */
export const providerProblems = {
  unknownModel: (model: string) => new HttpProblem(404, 'model-not-found', `no route for model "${model}": use <provider>/<model> or <your key name>/<model>`),
  providerDisabled: (id: string) => new HttpProblem(503, 'provider-disabled', `provider ${id} is disabled`),
  providerNotConfigured: (id: string) => new HttpProblem(503, 'provider-not-configured', `no platform key is configured for ${id}; add your own key with POST /keys`),
  missingBaseUrl: (name: string) => new HttpProblem(400, 'missing-base-url', `key ${name} has no base_url to call`),
  quotaExceeded: (detail: string, retryAfter: number, limit: Record<string, unknown>) =>
    new HttpProblem(429, 'quota-exceeded', detail, { headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfter))) }, limit }),
  upstreamTimeout: (provider: string) => new HttpProblem(504, 'upstream-timeout', `${provider} did not answer in time`),
  upstreamError: (provider: string, status: number, attempts: number, headers: Record<string, string> = {}) =>
    new HttpProblem(502, 'upstream-error', `${provider} answered ${status} (after ${attempts} attempt${attempts === 1 ? '' : 's'})`, { headers }),
  upstreamUnreachable: (provider: string, headers: Record<string, string> = {}) => new HttpProblem(502, 'upstream-unreachable', `${provider} could not be reached`, { headers }),
  /** 401/403 as the provider answered them: the key is wrong or lacks access, so SDKs must not retry. */
  upstreamAuth: (provider: string, status: 401 | 403, message: string | undefined) =>
    new HttpProblem(status, 'upstream-auth-failed', `${provider} refused the API key${message ? `: ${message}` : ''}; check it with POST /keys/{id}/verify`),
  upstreamModelNotFound: (provider: string, message: string | undefined) =>
    new HttpProblem(404, 'model-not-found', `${provider}: ${message ?? 'the model does not exist or this key cannot use it'}`, { openai_code: 'model_not_found' }),
  upstreamRateLimited: (provider: string, retryAfter: number | undefined, message: string | undefined, openaiCode: string | undefined, headers: Record<string, string> = {}) =>
    new HttpProblem(429, 'upstream-rate-limited', `${provider} is rate limiting this key${message ? `: ${message}` : ''}`, {
      headers: { ...(retryAfter !== undefined ? { 'Retry-After': String(Math.max(1, Math.ceil(retryAfter))) } : {}), ...headers },
      ...(openaiCode ? { openai_code: openaiCode } : {}),
    }),
  upstreamOverloaded: (provider: string, retryAfter: number | undefined, message: string | undefined, headers: Record<string, string> = {}) =>
    new HttpProblem(503, 'overloaded', `${provider} is overloaded${message ? `: ${message}` : ''}`, {
      headers: { ...(retryAfter !== undefined ? { 'Retry-After': String(Math.max(1, Math.ceil(retryAfter))) } : {}), ...headers },
    }),
  /** A 4xx the provider gave the request itself: same status, the provider's (scrubbed) message and OpenAI code. */
  upstreamRejected: (provider: string, status: number, message: string, openaiCode: string | undefined) =>
    new HttpProblem(status, 'upstream-rejected', `${provider} rejected the request: ${message}`, openaiCode ? { openai_code: openaiCode } : {}),
  apiKeyNotAllowed: () => new HttpProblem(403, 'api-key-not-allowed', 'gateway API keys cannot manage keys, quotas or alerts; use an access token'),
  scopeMissing: (scope: string) => new HttpProblem(403, 'scope-missing', `this API key lacks the "${scope}" scope`),
  baseUrlRequired: () => new HttpProblem(422, 'validation-failed', 'openai_compatible keys need a base_url', { errors: [{ path: 'base_url', message: 'required for openai_compatible' }] }),
  keyWithoutBaseUrl: () => new HttpProblem(400, 'missing-base-url', 'this key has no base_url to call'),
  verifyUnreachable: (provider: string) => new HttpProblem(502, 'upstream-unreachable', `${provider} could not be reached to verify the key`),
  verifyFailed: (provider: string, status: number) => new HttpProblem(502, 'upstream-error', `${provider} answered ${status} while verifying the key`),
  expiryInThePast: () => new HttpProblem(400, 'invalid-expiry', 'expires_at must be in the future'),
  keyNameTaken: (name: string) => new HttpProblem(409, 'key-name-taken', `you already have a key named "${name}"`),
  invalidRange: () => new HttpProblem(400, 'invalid-range', 'from must not be after to'),
  missingAlertTarget: () => new HttpProblem(400, 'missing-target', 'webhook alerts need a target URL'),
  catalogAdminOnly: () => new HttpProblem(403, 'forbidden', 'only platform administrators edit the catalog'),
  noRouteOffers: (model: string) => new HttpProblem(404, 'model-not-found', `no route of yours offers model "${model}"`),
  unsupportedParameter: (route: string, param: string, reason: string) =>
    new HttpProblem(400, 'unsupported-parameter', `parameter "${param}" is not supported by route "${route}": ${reason}; remove it or send "drop_params": true to drop it`, {
      errors: [{ path: param, message: reason }],
    }),
  unsupportedContent: (route: string, param: string, message: string) =>
    new HttpProblem(400, 'unsupported-content', `${param} cannot be sent to route "${route}": ${message}`, { errors: [{ path: param, message }] }),
  unsafeUrl: (field: string, why: string) => new HttpProblem(422, 'unsafe-url', `${field} ${why}`, { errors: [{ path: field, message: why }] }),
} satisfies ErrorCatalog;
