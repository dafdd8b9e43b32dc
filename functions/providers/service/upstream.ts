import type { ProviderError, UpstreamRequest } from '../adapters/index.js';
import { catalogTransport, MAX_ERROR_BODY_BYTES, readCapped, type Transport, type UpstreamResponse } from './transport.js';

/**
 * One upstream call with retries before the first byte, only for what is transient: connection
 * errors, 5xx, and 429 unless the provider says the quota is spent (`insufficient_quota`: waiting
 * cannot help). Backoff is exponential with jitter; a provider's Retry-After is honoured when it is
 * within `maxDelayMs`, and a longer one is handed to the client instead of being waited out. All
 * attempts fit in one deadline (`deadlineMs` from the first attempt); a timeout is not retried (the
 * client has already waited the full budget). Redirects are not followed: a redirect could lead a
 * BYOK call to an address the SSRF check never saw.
 */
export interface RetryPolicy {
  /** Idle timeout: no byte for this long aborts the call. */
  timeoutMs: number;
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** No retry starts after this long since the first attempt (default: timeoutMs). */
  deadlineMs?: number;
}

export type UpstreamOutcome =
  | { kind: 'response'; response: UpstreamResponse; attempts: number; timer: IdleTimer; abort: () => void; retried: boolean }
  | { kind: 'timeout'; attempts: number }
  | { kind: 'unreachable'; attempts: number }
  | { kind: 'aborted'; attempts: number };

/** Aborts the call when no byte arrived for `ms`; `touch()` on every chunk keeps a live stream going. */
export class IdleTimer {
  private handle: NodeJS.Timeout | undefined;
  fired = false;
  constructor(
    private readonly controller: AbortController,
    private readonly ms: number,
  ) {
    this.touch();
  }
  touch(): void {
    clearTimeout(this.handle);
    this.handle = setTimeout(() => {
      this.fired = true;
      this.controller.abort(new Error('upstream timeout'));
    }, this.ms);
    this.handle.unref?.();
  }
  stop(): void {
    clearTimeout(this.handle);
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** Milliseconds to wait before the next attempt, or undefined when the provider asks for longer than the cap. */
function retryDelay(policy: RetryPolicy, attempt: number, hintSeconds?: number): number | undefined {
  if (hintSeconds !== undefined) {
    const hinted = hintSeconds * 1000;
    return hinted <= policy.maxDelayMs ? hinted : undefined;
  }
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt * (0.5 + Math.random() / 2));
}

/** Reads an error answer's body once (bounded) and gives back an equivalent unread Response. */
async function peekError(response: UpstreamResponse): Promise<{ response: UpstreamResponse; json: unknown }> {
  const text = (await readCapped(response, MAX_ERROR_BODY_BYTES, { truncate: true }).catch(() => '')).slice(0, 16_000);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { response: new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers }), json };
}

export type ReadProviderError = (status: number, body: unknown, headers?: Headers) => ProviderError;

/** Whether an error answer is worth another attempt, and the provider's delay hint. */
async function transient(response: UpstreamResponse, readError?: ReadProviderError): Promise<{ retry: boolean; hint?: number; response: UpstreamResponse }> {
  if (response.status !== 429 && response.status < 500) return { retry: false, response };
  const peeked = await peekError(response);
  const e = readError?.(response.status, peeked.json, response.headers);
  if (e?.code === 'insufficient_quota' || e?.authFailed) return { retry: false, response: peeked.response };
  return { retry: true, hint: e?.retryAfterSeconds, response: peeked.response };
}

/**
 * `transport`: how to call (transport.ts: a keep-alive pool per origin); a user-supplied base URL passes
 * the SSRF guard's pinned transport (`urlGuard.request`, ssrf.ts). fetch fits too.
 */
export async function callUpstream(
  req: UpstreamRequest,
  policy: RetryPolicy,
  clientSignal?: AbortSignal,
  readError?: ReadProviderError,
  transport: Transport = catalogTransport,
): Promise<UpstreamOutcome> {
  const started = performance.now();
  const deadline = policy.deadlineMs ?? policy.timeoutMs;
  /** The next attempt would start within the deadline. */
  const fits = (delay: number) => performance.now() - started + delay < deadline;
  for (let attempt = 0; ; attempt++) {
    const attempts = attempt + 1;
    if (clientSignal?.aborted) return { kind: 'aborted', attempts };
    const controller = new AbortController();
    const onClientAbort = () => controller.abort(new Error('client went away'));
    clientSignal?.addEventListener('abort', onClientAbort, { once: true });
    const timer = new IdleTimer(controller, policy.timeoutMs);
    let response: UpstreamResponse;
    try {
      response = await transport(req.url, { method: req.method, headers: req.headers, body: req.body, signal: controller.signal, redirect: 'manual', backstopMs: 2 * policy.timeoutMs });
    } catch {
      timer.stop();
      clientSignal?.removeEventListener('abort', onClientAbort);
      if (clientSignal?.aborted) return { kind: 'aborted', attempts };
      if (timer.fired) return { kind: 'timeout', attempts };
      const delay = retryDelay(policy, attempt)!;
      if (attempt >= policy.maxRetries || !fits(delay)) return { kind: 'unreachable', attempts };
      await sleep(delay, clientSignal);
      continue;
    }
    if (!response.ok) {
      const verdict = await transient(response, readError).catch(() => ({ retry: false, response, hint: undefined }));
      response = verdict.response;
      const delay = verdict.retry && attempt < policy.maxRetries ? retryDelay(policy, attempt, verdict.hint) : undefined;
      if (delay !== undefined && fits(delay)) {
        timer.stop();
        clientSignal?.removeEventListener('abort', onClientAbort);
        await response.body?.cancel().catch(() => {});
        await sleep(delay, clientSignal);
        continue;
      }
    }
    return { kind: 'response', response, attempts, timer, abort: () => controller.abort(new Error('call ended')), retried: attempts > 1 };
  }
}

/** Reads an error body (bounded) for its message; never forwarded as-is. */
export async function errorMessage(response: Pick<UpstreamResponse, 'body'>): Promise<string | undefined> {
  try {
    const text = (await readCapped(response, MAX_ERROR_BODY_BYTES, { truncate: true })).slice(0, 4000);
    const json = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const m = typeof json.error === 'string' ? json.error : (json.error?.message ?? json.message);
    return typeof m === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Known key shapes: OpenAI/Anthropic/most compatible servers' `sk-…` (also in the masked form
 * OpenAI echoes in a 401, `sk-proj-abc***…wxyz`), Google API keys `AIza…`, and an Authorization value.
 */
const KEY_SHAPES = [/\bsk-[A-Za-z0-9_*.-]*[A-Za-z0-9_*]/g, /\bAIza[0-9A-Za-z_-]{4,}/g, /\bBearer\s+[A-Za-z0-9._~+/=-]+/g];

/**
 * Removes the key itself and known key shapes from a provider message before a client sees it, and
 * nothing else: the provider's explanation ("prompt is too long: 208310 tokens > 200000 maximum") is
 * what the client needs to fix its call.
 */
export function scrub(message: string, secret: string): string {
  let out = message;
  if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  for (const shape of KEY_SHAPES) out = out.replace(shape, '[redacted]');
  return out.slice(0, 2000);
}
