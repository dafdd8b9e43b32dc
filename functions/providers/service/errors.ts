import { HttpProblem } from '../../shared/http/index.js';

/** The providers function's stable error codes (problem `type` suffixes), in one place. */
export const providerProblems = {
  unknownModel: (model: string) => new HttpProblem(404, 'model-not-found', `no route for model "${model}": use <provider>/<model> or <your key name>/<model>`),
  providerDisabled: (id: string) => new HttpProblem(503, 'provider-disabled', `provider ${id} is disabled`),
  providerNotConfigured: (id: string) => new HttpProblem(503, 'provider-not-configured', `no platform key is configured for ${id}; add your own key with POST /keys`),
  missingBaseUrl: (name: string) => new HttpProblem(400, 'missing-base-url', `key ${name} has no base_url to call`),
  quotaExceeded: (detail: string, retryAfter: number, limit: Record<string, unknown>) =>
    new HttpProblem(429, 'quota-exceeded', detail, { headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfter))) }, limit }),
  upstreamTimeout: (provider: string) => new HttpProblem(504, 'upstream-timeout', `${provider} did not answer in time`),
  upstreamError: (provider: string, status: number, attempts: number) =>
    new HttpProblem(502, 'upstream-error', `${provider} answered ${status} (after ${attempts} attempt${attempts === 1 ? '' : 's'})`),
  upstreamUnreachable: (provider: string) => new HttpProblem(502, 'upstream-unreachable', `${provider} could not be reached`),
  upstreamAuth: (provider: string) => new HttpProblem(502, 'upstream-auth-failed', `${provider} refused the API key; check it with POST /keys/{id}/verify`),
  upstreamRateLimited: (provider: string, retryAfter: number) =>
    new HttpProblem(429, 'upstream-rate-limited', `${provider} is rate limiting this key`, { headers: { 'Retry-After': String(Math.max(1, retryAfter)) } }),
  upstreamRejected: (provider: string, message: string) => new HttpProblem(400, 'upstream-rejected', `${provider} rejected the request: ${message}`),
  apiKeyNotAllowed: () => new HttpProblem(403, 'api-key-not-allowed', 'gateway API keys cannot manage keys, quotas or alerts; use an access token'),
  scopeMissing: (scope: string) => new HttpProblem(403, 'scope-missing', `this API key lacks the "${scope}" scope`),
};
