import { randomUUID } from 'node:crypto';
import { adapterFor, SseParser, UnsupportedInput, UpstreamStreamError, type Adapter, type ChatRequest, type SseEvent, type StreamContext, type Usage } from '../adapters/index.js';
import type { KeyEncryptor } from '../../shared/crypto/index.js';
import type { Database } from '../../shared/db/index.js';
import { problems, type HttpProblem, type Logger } from '../../shared/http/index.js';
import { isDraining } from '../../shared/http/drain.js';
import type { Principal } from '../../shared/security/tokens.js';
import { providerProblems } from './errors.js';
import { applyParams, DROPPED_HEADER, unsupportedContent } from './params.js';
import { periodsAt, usageCostMicros, worstCaseCostMicros, type Settlement } from './quota.js';
import type { QuotaLeases } from './leases/index.js';
import { reserveForCall } from './leases/reserve.js';
import { byokAad, type ResolvedRoute } from './resolve.js';
import { resolveModel } from './route-model.js';
import type { ReserveBatcher } from './reserve-batcher.js';
import type { SettleBatcher } from './settle-batcher.js';
import type { UrlGuard } from './ssrf.js';
import { MAX_ERROR_BODY_BYTES, readCapped, readJsonCapped, type UpstreamResponse } from './transport.js';
import { callUpstream, scrub, type RetryPolicy } from './upstream.js';

/**
 * The hot path (DESIGN.md §3): route (cached a few seconds) → reserve in one round trip → key decrypted
 * for this call only → upstream with retries before the first byte → answer (JSON or SSE) → settle,
 * off the answer's path, in the instance's next settle batch (settle-batcher.ts: group commit, retried,
 * durable before the instance acknowledges SIGTERM). Every path that reserved also settles: success,
 * upstream error, timeout, a cut stream (billed for what was produced); only if the batch keeps failing
 * is the reservation left to the expiry job (with an ERROR log line carrying the usage).
 */
export interface GatewayDeps {
  database: Database;
  keyEncryptor: KeyEncryptor;
  production: boolean;
  platformKeys: Record<string, string>;
  retry: RetryPolicy;
  /** The SSRF rule, and the pinned fetch a user-supplied base URL is called through. */
  urlGuard: UrlGuard;
  log: Logger;
  /** Runs after each settle (cost alerts); never delays the answer. */
  afterSettle?: (tenant: { orgId: string; userId: string }) => Promise<unknown>;
  /** Keeps background work visible (tests and shutdown wait for it). */
  track: (work: Promise<unknown>) => void;
  /** The instance's settle batches (group commit). */
  settles: SettleBatcher;
  /** The instance's reservation batches; without them each call reserves in a statement of its own. */
  reserves?: ReserveBatcher;
  /** This instance's quota leases (GATEWAY_QUOTA_LEASES=on); without them every call reserves a row. */
  quotaLeases?: QuotaLeases;
}

/**
 * Output cap of a call whose client gave none, for a model the catalog does not list and whose key has
 * no `default_max_output_tokens`: it sizes the reservation, and is sent upstream only where the
 * provider requires a cap (Anthropic's max_tokens). Documented in README "Use the gateway".
 */
export const FALLBACK_MAX_OUTPUT = 4096;

/** A deliberate over-estimate of prompt tokens (≈3 bytes per token plus per-message framing). */
export function estimatePromptTokens(body: ChatRequest): number {
  let bytes = 0;
  for (const m of body.messages) {
    const content = typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? '');
    bytes += Buffer.byteLength(content, 'utf8') + Buffer.byteLength(m.role, 'utf8');
  }
  return Math.ceil(bytes / 3) + 4 * body.messages.length + 3;
}

const estimateCompletion = (chars: number) => Math.ceil(chars / 4);

export async function chatCompletions(deps: GatewayDeps, principal: Principal, requested: ChatRequest): Promise<Response> {
  const started = performance.now();
  const tenant = { orgId: principal.orgId, userId: principal.userId };
  const stream = requested.stream === true;
  const requestId = randomUUID();
  const promptEstimate = estimatePromptTokens(requested);
  const requestedMax = requested.max_completion_tokens ?? requested.max_tokens ?? undefined;

  // Route (cached briefly, see resolve.ts), then the reservation in one round trip of its own.
  const route = await resolveModel(deps, principal, requested.model);
  // Parameters the provider cannot honour answer 400 before anything is reserved (see params.ts).
  const { body, dropped } = applyParams(route.kind, route.route, requested, route.byok?.dropParams);
  if (!route.byok && !deps.platformKeys[route.catalogId ?? '']) throw providerProblems.providerNotConfigured(route.catalogId ?? route.route);
  const maxTokens = requestedMax ?? route.maxOutputTokens ?? FALLBACK_MAX_OUTPUT;
  // Every one of the n choices may use the whole output cap.
  const choices = typeof body.n === 'number' && Number.isInteger(body.n) && body.n > 1 ? body.n : 1;
  const worstOutput = choices * maxTokens;
  const ttlSeconds = reservationTtlSeconds(deps.retry);
  await settleRoom(deps);
  const held = await reserveForCall(deps, tenant, periodsAt(new Date()), {
    requestId, tokens: promptEstimate + worstOutput, costMicros: worstCaseCostMicros(promptEstimate, worstOutput, route.prices), ttlSeconds,
  });

  const base: Omit<Settlement, 'promptTokens' | 'completionTokens' | 'costMicros' | 'status' | 'latencyMs'> = {
    requestId, provider: route.route, model: route.model, stream, keySource: route.byok ? 'byok' : 'platform', ...held,
  };
  const finish = async (usage: Usage, status: number, errorCode: string | null) => {
    const s: Settlement = {
      ...base, promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens,
      costMicros: usageCostMicros(usage, route.prices),
      status, errorCode, latencyMs: performance.now() - started,
    };
    settleInBackground(deps, tenant, s);
  };
  const fail = async (problem: HttpProblem): Promise<never> => {
    await finish({ prompt_tokens: 0, completion_tokens: 0 }, problem.status, problem.code);
    throw problem;
  };

  let key: Buffer | undefined;
  try {
    key = await keyOrFail(deps, principal, route, fail, () => finish({ prompt_tokens: 0, completion_tokens: 0 }, 500, 'key-unavailable'));
    const adapter = adapterFor(route.kind);
    const secret = key.toString('utf8');
    let upstreamReq;
    try {
      upstreamReq = adapter.build({ baseUrl: route.baseUrl, apiKey: secret, model: route.model, body, stream, maxTokens });
    } catch (err) {
      if (err instanceof UnsupportedInput) return await fail(unsupportedContent(route.route, err));
      throw err;
    }
    const outcome = await callUpstream(upstreamReq, deps.retry, undefined, adapter.error, route.byok?.customBaseUrl ? deps.urlGuard.request : undefined);
    if (outcome.kind === 'timeout') return await fail(providerProblems.upstreamTimeout(route.route));
    if (outcome.kind !== 'response') return await fail(providerProblems.upstreamUnreachable(route.route, outcome.attempts > 1 ? NO_SDK_RETRY : {}));
    const { response, timer } = outcome;
    if (!response.ok) {
      timer.stop();
      return await fail(await upstreamProblem(adapter, route, response, outcome.attempts, secret));
    }
    const ctx: StreamContext = { model: body.model, id: `chatcmpl-${requestId}`, created: Math.floor(Date.now() / 1000), includeUsage: body.stream_options?.include_usage === true };
    const headers: Record<string, string> = { 'x-gateway-request-id': requestId, ...(dropped.length ? { [DROPPED_HEADER]: dropped.join(', ') } : {}) };
    if (!stream) {
      let json: unknown;
      try {
        json = await readJsonCapped(response);
      } catch {
        return await fail(timer.fired ? providerProblems.upstreamTimeout(route.route) : providerProblems.upstreamError(route.route, response.status, outcome.attempts));
      } finally {
        timer.stop();
      }
      const { body: out, usage } = adapter.parse(json, ctx);
      await finish(usage ?? { prompt_tokens: promptEstimate, completion_tokens: estimateCompletion(JSON.stringify((out.choices as unknown[] | undefined) ?? []).length) }, 200, null);
      return Response.json(out, { headers });
    }
    return streamResponse(adapter, ctx, outcome, promptEstimate, finish, headers, secret);
  } finally {
    key?.fill(0);
  }
}

export function evaluateAlerts(deps: GatewayDeps, tenant: { orgId: string; userId: string }): void {
  if (deps.afterSettle) deps.track(deps.afterSettle(tenant).catch((err) => deps.log.warn('cost alert evaluation failed', { error: err })));
}

/**
 * Hands the call's usage to the settle batch and returns at once: the answer never waits for the
 * database (the reservation already holds the worst case, so the limit cannot be overspent meanwhile).
 * Idempotent by request id and retried by the batcher; the cost alerts are evaluated after the commit.
 */
export function settleInBackground(deps: GatewayDeps, tenant: { orgId: string; userId: string }, s: Settlement): void {
  deps.track(deps.settles.settle(tenant, s).then(({ alerts }) => {
    if (alerts) evaluateAlerts(deps, tenant);
  }));
}

/**
 * Backpressure: while the instance holds as many unwritten settles as its bound (settle-batcher.ts
 * maxPending), a new call waits before it reserves, so a slow database slows clients (JSON and streams
 * alike) instead of growing the instance's memory.
 */
export async function settleRoom(deps: GatewayDeps): Promise<void> {
  if (!deps.settles.saturated) return;
  await deps.settles.room();
  // Woken by a drain: nothing is reserved yet, so the client may retry elsewhere.
  if (isDraining()) throw problems.shuttingDown();
}

/**
 * The call's key, or the call settled as failed: a refusal (SSRF rule, KMS denial as a problem) answers
 * through `fail`; anything else settles the call as 500 `key-unavailable` and is rethrown (logged, 500).
 */
export async function keyOrFail(
  deps: GatewayDeps, principal: Principal, route: ResolvedRoute, fail: (problem: HttpProblem) => Promise<never>, unavailable: () => Promise<void>,
): Promise<Buffer> {
  try {
    return await obtainKey(deps, principal, route);
  } catch (err) {
    if ((err as HttpProblem | undefined)?.name === 'HttpProblem') return fail(err as HttpProblem);
    await unavailable();
    throw err;
  }
}

export async function obtainKey(deps: GatewayDeps, principal: Principal, route: ResolvedRoute): Promise<Buffer> {
  if (!route.byok) return Buffer.from(deps.platformKeys[route.catalogId!]!, 'utf8');
  // DNS can change after the key was saved: the SSRF rule is checked again before every call.
  if (route.byok.customBaseUrl) await deps.urlGuard.check(route.baseUrl);
  return deps.keyEncryptor.decrypt(route.byok.encryptedKey, byokAad(principal.userId, route.byok.provider, route.byok.id));
}

/**
 * OpenAI SDKs retry 408/409/429/5xx on their own unless the answer says `x-should-retry: false`
 * (openai-node src/client.ts shouldRetry(): "If the server explicitly says whether or not to retry,
 * obey"; the Python SDK reads the same header). Once the gateway has retried, or retrying cannot help,
 * the SDK's retries would only multiply the upstream calls.
 */
export const NO_SDK_RETRY = { 'x-should-retry': 'false' };

/**
 * How long a call's reservation holds before the expiry job may release it, for chat and embeddings
 * alike: every upstream attempt (maxRetries + 1) may run to its timeout, one timeout more as slack,
 * then ten minutes for the settle to land.
 */
export const reservationTtlSeconds = (retry: RetryPolicy): number => Math.ceil((retry.timeoutMs * (retry.maxRetries + 2)) / 1000) + 600;

/** The provider's refusal with its status class kept (DESIGN.md §4 "Upstream errors keep their class"). */
export async function upstreamProblem(adapter: Adapter, route: ResolvedRoute, response: UpstreamResponse, attempts: number, secret: string): Promise<HttpProblem> {
  const status = response.status;
  let json: unknown;
  try {
    json = JSON.parse((await readCapped(response, MAX_ERROR_BODY_BYTES, { truncate: true })).slice(0, 16_000));
  } catch {
    json = undefined;
  }
  const e = adapter.error(status, json, response.headers);
  const message = e.message ? scrub(e.message, secret) : undefined;
  const retried = attempts > 1 ? NO_SDK_RETRY : {};
  if (status === 401 || status === 403 || e.authFailed) return providerProblems.upstreamAuth(route.route, status === 403 ? 403 : 401, message);
  if (status === 404) return providerProblems.upstreamModelNotFound(route.route, message);
  if (status === 429) {
    const spent = e.code === 'insufficient_quota';
    return providerProblems.upstreamRateLimited(route.route, e.retryAfterSeconds, message, e.code, spent ? NO_SDK_RETRY : retried);
  }
  // Anthropic answers 529 overloaded_error (docs.anthropic.com/en/api/errors); Gemini and OpenAI 503.
  if (status === 503 || status === 529) return providerProblems.upstreamOverloaded(route.route, e.retryAfterSeconds, message, retried);
  if (status >= 400 && status < 500) return providerProblems.upstreamRejected(route.route, status, message ?? `status ${status}`, e.code);
  return providerProblems.upstreamError(route.route, status, attempts, retried);
}

type Finish = (usage: Usage, status: number, errorCode: string | null) => Promise<void>;

/**
 * Upstream SSE → OpenAI SSE. The upstream is read only as fast as the client reads (pull), and pull
 * keeps reading until it has enqueued a frame or the upstream ended: a pull that resolves without
 * enqueuing is never called again (DESIGN.md §6), and real upstreams send many reads that translate
 * to nothing (usage-only chunks, `[DONE]`, `: keep-alive`, Anthropic `ping`, half an event).
 * A failure after the first byte (error event, unreadable event, cut connection, idle timeout) first
 * delivers every frame translated before it, then one OpenAI error event the SDKs raise as APIError,
 * and settles what was produced: the provider's usage if it reported any, else an estimate.
 */
export function streamResponse(
  adapter: Adapter,
  ctx: StreamContext,
  outcome: Extract<Awaited<ReturnType<typeof callUpstream>>, { kind: 'response' }>,
  promptEstimate: number,
  finish: Finish,
  headers: Record<string, string>,
  secret: string,
): Response {
  const { response, timer, abort } = outcome;
  const reader = response.body!.getReader();
  const parser = new SseParser();
  const translator = adapter.stream(ctx);
  const encoder = new TextEncoder();
  // All events translated from one upstream read leave as ONE chunk (one socket write, not one per event).
  const frames = (objs: unknown[], tail = '') => {
    let text = '';
    for (const o of objs) text += `data: ${JSON.stringify(o)}\n\n`;
    return encoder.encode(text + tail);
  };
  let done = false;
  let cut = false;

  const billed = (): Usage => {
    const u = translator.usage();
    const estimate = estimateCompletion(translator.producedChars());
    return {
      ...u,
      prompt_tokens: u.prompt_tokens ?? promptEstimate,
      // A cut stream may carry only a partial count (Anthropic's starts at 1): bill at least what was sent.
      completion_tokens: cut ? Math.max(u.completion_tokens ?? 0, estimate) : (u.completion_tokens ?? estimate),
    };
  };
  const end = async (status: number, errorCode: string | null) => {
    if (done) return;
    done = true;
    timer.stop();
    await finish(billed(), status, errorCode);
  };

  /** Translates one batch of upstream events; a failure keeps what was translated before it. */
  const translate = (events: SseEvent[], out: unknown[]): unknown => {
    for (const ev of events) {
      try {
        for (const c of translator.push(ev)) out.push(c);
      } catch (err) {
        return err;
      }
    }
    return undefined;
  };

  const fail = async (controller: ReadableStreamDefaultController<Uint8Array>, out: unknown[], err: unknown) => {
    cut = true;
    const timedOut = timer.fired;
    abort();
    reader.cancel().catch(() => {});
    const e = streamError(err, timedOut, secret);
    try {
      // OpenAI SDKs raise an APIError for a data event carrying `error` (openai-node src/core/streaming.ts).
      controller.enqueue(frames([...out, { error: e }]));
      controller.close();
    } catch {
      // the client left meanwhile
    }
    await end(timedOut ? 504 : 502, timedOut ? 'upstream-timeout' : e.code);
  };

  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const out: unknown[] = [];
      try {
        for (;;) {
          const { done: upstreamDone, value } = await reader.read();
          if (upstreamDone) {
            const failure = translate(parser.end(), out);
            if (failure) return await fail(controller, out, failure);
            // Closed before the provider's own end marker: the connection was cut, or the provider printed
            // its error body raw after the events (see SseParser.stray).
            if (!translator.ended()) return await fail(controller, out, strayError(adapter, parser.stray()) ?? new UpstreamStreamError({ type: 'api_error', code: 'upstream-connection-cut', message: 'the provider closed the connection before the end of the answer' }));
            controller.enqueue(frames([...out, ...translator.finish()], 'data: [DONE]\n\n'));
            controller.close();
            await end(200, null);
            return;
          }
          timer.touch();
          const failure = translate(parser.push(value), out);
          if (failure) return await fail(controller, out, failure);
          if (out.length) {
            controller.enqueue(frames(out));
            return;
          }
        }
      } catch (err) {
        if (done) return; // the client left first; cancel() settled already
        await fail(controller, out, err);
      }
    },
    async cancel() {
      cut = true;
      abort();
      reader.cancel().catch(() => {});
      await end(499, 'client-disconnected');
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', ...headers } });
}

/** A provider error body that arrived unframed after the events, if that is what the stray lines hold. */
function strayError(adapter: Adapter, stray: string): UpstreamStreamError | undefined {
  if (!stray.trim().startsWith('{')) return undefined;
  try {
    const e = adapter.error(500, JSON.parse(stray));
    return e.message ? new UpstreamStreamError(e) : undefined;
  } catch {
    return undefined;
  }
}

/** The error event sent in place of the rest of a failed stream: the provider's type and (scrubbed) message. */
function streamError(err: unknown, timedOut: boolean, secret: string): { message: string; type: string; code: string; param: null } {
  if (timedOut) return { message: 'the provider stopped sending (idle timeout)', type: 'api_error', code: 'upstream-timeout', param: null };
  if (err instanceof UpstreamStreamError) {
    const e = err.error;
    return {
      message: scrub(e.message ?? 'the provider failed mid-stream', secret),
      type: e.type ?? 'api_error',
      code: e.code ?? (e.type === 'malformed_event' ? 'upstream-malformed-event' : 'upstream-stream-error'),
      param: null,
    };
  }
  // A read that failed: the connection was reset or closed mid-body.
  return { message: 'the connection to the provider was cut mid-stream', type: 'api_error', code: 'upstream-connection-cut', param: null };
}
