import type { UpstreamRequest } from '../adapters/index.js';

/**
 * One upstream call with retries before the first byte: 429, 5xx and connection errors are retried
 * with exponential backoff and jitter (Retry-After honoured up to a cap); a timeout is not retried
 * (the client has already waited the full budget). Redirects are not followed: a redirect could lead
 * a BYOK call to an address the SSRF check never saw.
 */
export interface RetryPolicy {
  timeoutMs: number;
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export type UpstreamOutcome =
  | { kind: 'response'; response: Response; attempts: number; timer: IdleTimer; abort: () => void }
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

function retryDelay(policy: RetryPolicy, attempt: number, response?: Response): number {
  const header = response?.headers.get('retry-after');
  const hinted = header && /^\d+(\.\d+)?$/.test(header) ? Number(header) * 1000 : undefined;
  const backoff = policy.baseDelayMs * 2 ** attempt * (0.5 + Math.random() / 2);
  return Math.min(policy.maxDelayMs, hinted ?? backoff);
}

const retryable = (status: number) => status === 429 || status >= 500;

export async function callUpstream(req: UpstreamRequest, policy: RetryPolicy, clientSignal?: AbortSignal): Promise<UpstreamOutcome> {
  for (let attempt = 0; ; attempt++) {
    const attempts = attempt + 1;
    if (clientSignal?.aborted) return { kind: 'aborted', attempts };
    const controller = new AbortController();
    const onClientAbort = () => controller.abort(new Error('client went away'));
    clientSignal?.addEventListener('abort', onClientAbort, { once: true });
    const timer = new IdleTimer(controller, policy.timeoutMs);
    let response: Response;
    try {
      response = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body, signal: controller.signal, redirect: 'manual' });
    } catch {
      timer.stop();
      clientSignal?.removeEventListener('abort', onClientAbort);
      if (clientSignal?.aborted) return { kind: 'aborted', attempts };
      if (timer.fired) return { kind: 'timeout', attempts };
      if (attempt >= policy.maxRetries) return { kind: 'unreachable', attempts };
      await sleep(retryDelay(policy, attempt), clientSignal);
      continue;
    }
    if (retryable(response.status) && attempt < policy.maxRetries) {
      timer.stop();
      clientSignal?.removeEventListener('abort', onClientAbort);
      await response.body?.cancel().catch(() => {});
      await sleep(retryDelay(policy, attempt, response), clientSignal);
      continue;
    }
    return { kind: 'response', response, attempts, timer, abort: () => controller.abort(new Error('call ended')) };
  }
}

/** Reads an error body (bounded) for its message; never forwarded as-is. */
export async function errorMessage(response: Response): Promise<string | undefined> {
  try {
    const text = (await response.text()).slice(0, 4000);
    const json = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const m = typeof json.error === 'string' ? json.error : (json.error?.message ?? json.message);
    return typeof m === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Removes anything key-shaped (and the key itself) from a provider message before a client sees it. */
export function scrub(message: string, secret: string): string {
  let out = message;
  if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out
    .replace(/\b(sk|rk|pk|llk|key|AIza)[-_A-Za-z0-9]{6,}/g, '[redacted]')
    .replace(/[A-Za-z0-9_-]{32,}/g, '[redacted]')
    .slice(0, 300);
}
