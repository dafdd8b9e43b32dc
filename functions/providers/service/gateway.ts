import { randomUUID } from 'node:crypto';
import { adapterFor, SseParser, type Adapter, type ChatRequest, type StreamContext, type Usage } from '../adapters/index.js';
import type { KeyEncryptor } from '../../shared/crypto/index.js';
import type { Database } from '../../shared/db/index.js';
import type { HttpProblem, Logger } from '../../shared/http/index.js';
import type { Principal } from '../../shared/security/tokens.js';
import { providerProblems } from './errors.js';
import { costMicros, periodsAt, reserveIn, reserveTx, settle, type Settlement } from './quota.js';
import { byokAad, resolveRoute, type ResolvedRoute } from './resolve.js';
import { assertPublicUrl } from './ssrf.js';
import { callUpstream, errorMessage, scrub, type RetryPolicy } from './upstream.js';

/**
 * The hot path (DESIGN.md §3): resolve + reserve in one short transaction → key decrypted for this
 * call only → upstream with retries before the first byte → answer (JSON or SSE) → settle in one
 * statement. Every path that reserved also settles: success, upstream error, timeout, a cut stream
 * (billed for what was produced), even a settle that fails is left to the expiry job rather than lost.
 */
export interface GatewayDeps {
  database: Database;
  keyEncryptor: KeyEncryptor;
  production: boolean;
  platformKeys: Record<string, string>;
  retry: RetryPolicy;
  log: Logger;
  /** Runs after each settle (cost alerts); never delays the answer. */
  afterSettle?: (tenant: { orgId: string; userId: string }) => Promise<unknown>;
  /** Keeps background work visible (tests and shutdown wait for it). */
  track: (work: Promise<unknown>) => void;
}

const DEFAULT_MAX_OUTPUT = 4096;

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

export async function chatCompletions(deps: GatewayDeps, principal: Principal, body: ChatRequest): Promise<Response> {
  const started = performance.now();
  const tenant = { orgId: principal.orgId, userId: principal.userId };
  const stream = body.stream === true;
  const requestId = randomUUID();
  const promptEstimate = estimatePromptTokens(body);
  const requestedMax = body.max_completion_tokens ?? body.max_tokens ?? undefined;

  let maxTokens = 0;
  const periods = periodsAt(new Date());
  const route = await reserveTx(deps.database, tenant, periods, async (q) => {
    const resolved = await resolveRoute(q, principal.userId, body.model);
    if (!resolved.byok && !deps.platformKeys[resolved.catalogId ?? '']) throw providerProblems.providerNotConfigured(resolved.catalogId ?? resolved.route);
    maxTokens = requestedMax ?? resolved.maxOutputTokens ?? DEFAULT_MAX_OUTPUT;
    const cost = costMicros(promptEstimate, maxTokens, resolved.inPrice, resolved.outPrice);
    const ttlSeconds = Math.ceil((deps.retry.timeoutMs * (deps.retry.maxRetries + 2)) / 1000) + 600;
    await reserveIn(q, tenant, periods, { requestId, tokens: promptEstimate + maxTokens, costMicros: cost, ttlSeconds });
    return resolved;
  });

  const base: Omit<Settlement, 'promptTokens' | 'completionTokens' | 'costMicros' | 'status' | 'latencyMs'> = {
    requestId, provider: route.route, model: route.model, stream, keySource: route.byok ? 'byok' : 'platform',
  };
  const finish = async (usage: Usage, status: number, errorCode: string | null) => {
    const s: Settlement = {
      ...base, ...{ promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens },
      costMicros: costMicros(usage.prompt_tokens, usage.completion_tokens, route.inPrice, route.outPrice),
      status, errorCode, latencyMs: performance.now() - started,
    };
    try {
      await settle(deps.database, tenant, s);
      if (deps.afterSettle) deps.track(deps.afterSettle(tenant).catch((err) => deps.log.warn('cost alert evaluation failed', { error: err })));
    } catch (err) {
      // The reservation stays 'reserved' and the expiry job gives it back; the call is not failed for it.
      deps.log.error('settle failed', { error: err, gatewayRequestId: requestId });
    }
  };
  const fail = async (problem: HttpProblem): Promise<never> => {
    await finish({ prompt_tokens: 0, completion_tokens: 0 }, problem.status, problem.code);
    throw problem;
  };

  let key: Buffer | undefined;
  try {
    try {
      key = await obtainKey(deps, principal, route);
    } catch (err) {
      if ((err as HttpProblem).name === 'HttpProblem') return await fail(err as HttpProblem);
      await finish({ prompt_tokens: 0, completion_tokens: 0 }, 500, 'key-unavailable');
      throw err;
    }
    const adapter = adapterFor(route.kind);
    const secret = key.toString('utf8');
    const upstreamReq = adapter.build({ baseUrl: route.baseUrl, apiKey: secret, model: route.model, body, stream, maxTokens });
    const outcome = await callUpstream(upstreamReq, deps.retry);
    if (outcome.kind === 'timeout') return await fail(providerProblems.upstreamTimeout(route.route));
    if (outcome.kind !== 'response') return await fail(providerProblems.upstreamUnreachable(route.route));
    const { response, timer } = outcome;
    if (!response.ok) {
      timer.stop();
      return await fail(await upstreamProblem(route, response, outcome.attempts, secret));
    }
    const ctx: StreamContext = { model: body.model, id: `chatcmpl-${requestId}`, created: Math.floor(Date.now() / 1000), includeUsage: body.stream_options?.include_usage === true };
    const headers = { 'x-gateway-request-id': requestId };
    if (!stream) {
      let json: unknown;
      try {
        json = await response.json();
      } catch {
        return await fail(timer.fired ? providerProblems.upstreamTimeout(route.route) : providerProblems.upstreamError(route.route, response.status, outcome.attempts));
      } finally {
        timer.stop();
      }
      const { body: out, usage } = adapter.parse(json, ctx);
      const content = JSON.stringify((out.choices as unknown[] | undefined) ?? []);
      await finish(usage ?? { prompt_tokens: promptEstimate, completion_tokens: estimateCompletion(content.length) }, 200, null);
      return Response.json(out, { headers });
    }
    return streamResponse(adapter, ctx, outcome, promptEstimate, finish, headers);
  } finally {
    key?.fill(0);
  }
}

async function obtainKey(deps: GatewayDeps, principal: Principal, route: ResolvedRoute): Promise<Buffer> {
  if (!route.byok) return Buffer.from(deps.platformKeys[route.catalogId!]!, 'utf8');
  // DNS can change after the key was saved: the SSRF rule is checked again before every call.
  if (route.byok.customBaseUrl) await assertPublicUrl(route.baseUrl, { production: deps.production });
  return deps.keyEncryptor.decrypt(route.byok.encryptedKey, byokAad(principal.userId, route.byok.provider, route.byok.id));
}

async function upstreamProblem(route: ResolvedRoute, response: Response, attempts: number, secret: string): Promise<HttpProblem> {
  const status = response.status;
  if (status === 429) {
    await response.body?.cancel().catch(() => {});
    return providerProblems.upstreamRateLimited(route.route, Number(response.headers.get('retry-after')) || 1);
  }
  if (status === 401 || status === 403) {
    await response.body?.cancel().catch(() => {});
    return providerProblems.upstreamAuth(route.route);
  }
  if (status === 400 || status === 404 || status === 413 || status === 422) {
    const message = await errorMessage(response);
    return providerProblems.upstreamRejected(route.route, message ? scrub(message, secret) : `status ${status}`);
  }
  await response.body?.cancel().catch(() => {});
  return providerProblems.upstreamError(route.route, status, attempts);
}

type Finish = (usage: Usage, status: number, errorCode: string | null) => Promise<void>;

/**
 * Upstream SSE → OpenAI SSE. The upstream is read only as fast as the client reads (pull), so a slow
 * client slows the provider instead of buffering. A cut (client gone, upstream error, idle timeout)
 * settles what was produced: the provider's usage if it reported any, else an estimate from the text sent.
 */
function streamResponse(
  adapter: Adapter,
  ctx: StreamContext,
  outcome: Extract<Awaited<ReturnType<typeof callUpstream>>, { kind: 'response' }>,
  promptEstimate: number,
  finish: Finish,
  headers: Record<string, string>,
): Response {
  const { response, timer, abort } = outcome;
  const reader = response.body!.getReader();
  const parser = new SseParser();
  const translator = adapter.stream(ctx);
  const encoder = new TextEncoder();
  const frame = (obj: unknown) => encoder.encode(`data: ${JSON.stringify(obj)}\n\n`);
  let done = false;

  const billed = (): Usage => {
    const u = translator.usage();
    return {
      prompt_tokens: u.prompt_tokens ?? promptEstimate,
      // A cut stream may carry only a partial count (Anthropic's starts at 1): bill at least what was sent.
      completion_tokens: cut
        ? Math.max(u.completion_tokens ?? 0, estimateCompletion(translator.producedChars()))
        : (u.completion_tokens ?? estimateCompletion(translator.producedChars())),
    };
  };
  let cut = false;
  const end = async (status: number, errorCode: string | null) => {
    if (done) return;
    done = true;
    timer.stop();
    await finish(billed(), status, errorCode);
  };

  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done: upstreamDone, value } = await reader.read();
        if (upstreamDone) {
          const out = parser.end().flatMap((ev) => translator.push(ev));
          for (const c of [...out, ...translator.finish()]) controller.enqueue(frame(c));
          controller.enqueue(encoder.encode('data: [DONE]\n\n'));
          controller.close();
          await end(200, null);
          return;
        }
        timer.touch();
        for (const ev of parser.push(value)) for (const c of translator.push(ev)) controller.enqueue(frame(c));
      } catch {
        if (done) return; // the client left first; cancel() settled already
        cut = true;
        const timedOut = timer.fired;
        abort();
        try {
          // OpenAI SDKs raise an APIError for a data event carrying `error`.
          controller.enqueue(frame({ error: { message: timedOut ? 'the provider stopped sending (timeout)' : 'the provider failed mid-stream', type: 'api_error', code: timedOut ? 'upstream-timeout' : 'upstream-error', param: null } }));
          controller.close();
        } catch {
          // stream already closed
        }
        await end(timedOut ? 504 : 502, timedOut ? 'upstream-timeout' : 'upstream-stream-error');
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
