import { randomUUID } from 'node:crypto';
import { adapterFor, embeddingAdapterFor, UnsupportedInput, unsupportedEmbeddingParams, type EmbeddingRequest } from '../adapters/index.js';
import { HttpProblem } from '../../shared/http/index.js';
import type { Principal } from '../../shared/security/tokens.js';
import { providerProblems } from './errors.js';
import { keyOrFail, NO_SDK_RETRY, reservationTtlSeconds, settleInBackground, settleRoom, upstreamProblem, type GatewayDeps } from './gateway.js';
import { DROPPED_HEADER, unsupportedContent, unsupportedParameter } from './params.js';
import { reserveForCall } from './leases/reserve.js';
import { periodsAt, usageCostMicros, worstCaseCostMicros, type Settlement } from './quota.js';
import { resolveModel } from './route-model.js';
import { callUpstream } from './upstream.js';
import { readJsonCapped } from './transport.js';

/**
 * POST /v1/embeddings on the chat path's rails: route (bare names too) → reserve the input estimate in
 * one round trip → key for this call only → upstream (same retries and error mapping) → settle with the
 * provider's usage (OpenAI) or the estimate (Gemini reports none), with a request log like chat.
 */
export function estimateInputTokens(input: EmbeddingRequest['input']): number {
  const list: unknown[] = Array.isArray(input) ? input : [input];
  let tokens = 0;
  for (const item of list) {
    if (typeof item === 'string') tokens += Math.ceil(Buffer.byteLength(item, 'utf8') / 3) + 1;
    else if (Array.isArray(item)) tokens += item.length;
    else tokens += 1;
  }
  return tokens;
}

export async function createEmbeddings(deps: GatewayDeps, principal: Principal, requested: EmbeddingRequest): Promise<Response> {
  const started = performance.now();
  const tenant = { orgId: principal.orgId, userId: principal.userId };
  const route = await resolveModel(deps, principal, requested.model);
  const embedder = embeddingAdapterFor(route.kind);
  if (!embedder) {
    throw new HttpProblem(400, 'unsupported-endpoint', `route "${route.route}" (${route.kind}) has no embeddings endpoint`, { errors: [{ path: 'model', message: 'this provider does not embed' }] });
  }
  const { drop_params: drop, ...rest } = requested;
  const unsupported = unsupportedEmbeddingParams(route.kind, rest as EmbeddingRequest);
  if (unsupported.length && drop !== true && !route.byok?.dropParams) throw unsupportedParameter(route.route, unsupported[0]!, 'the provider has no such parameter');
  for (const p of unsupported) delete (rest as Record<string, unknown>)[p];
  const body = rest as EmbeddingRequest;
  if (!route.byok && !deps.platformKeys[route.catalogId ?? '']) throw providerProblems.providerNotConfigured(route.catalogId ?? route.route);

  const requestId = randomUUID();
  const estimate = estimateInputTokens(body.input);
  const ttlSeconds = reservationTtlSeconds(deps.retry);
  await settleRoom(deps);
  const held = await reserveForCall(deps, tenant, periodsAt(new Date()), { requestId, tokens: estimate, costMicros: worstCaseCostMicros(estimate, 0, route.prices), ttlSeconds });

  const finish = async (promptTokens: number, status: number, errorCode: string | null) => {
    const s: Settlement = {
      requestId, provider: route.route, model: route.model, stream: false, keySource: route.byok ? 'byok' : 'platform',
      promptTokens, completionTokens: 0, costMicros: usageCostMicros({ prompt_tokens: promptTokens, completion_tokens: 0 }, route.prices), status, errorCode, latencyMs: performance.now() - started,
      ...held,
    };
    settleInBackground(deps, tenant, s);
  };
  const fail = async (problem: HttpProblem): Promise<never> => {
    await finish(0, problem.status, problem.code);
    throw problem;
  };

  let key: Buffer | undefined;
  try {
    key = await keyOrFail(deps, principal, route, fail, () => finish(0, 500, 'key-unavailable'));
    const secret = key.toString('utf8');
    let upstreamReq;
    try {
      upstreamReq = embedder.build({ baseUrl: route.baseUrl, apiKey: secret, model: route.model, body });
    } catch (err) {
      if (err instanceof UnsupportedInput) return await fail(unsupportedContent(route.route, err));
      throw err;
    }
    const adapter = adapterFor(route.kind);
    const outcome = await callUpstream(upstreamReq, deps.retry, undefined, adapter.error, route.byok?.customBaseUrl ? deps.urlGuard.request : undefined);
    if (outcome.kind === 'timeout') return await fail(providerProblems.upstreamTimeout(route.route));
    if (outcome.kind !== 'response') return await fail(providerProblems.upstreamUnreachable(route.route, outcome.attempts > 1 ? NO_SDK_RETRY : {}));
    const { response, timer } = outcome;
    let json: unknown;
    try {
      if (!response.ok) return await fail(await upstreamProblem(adapter, route, response, outcome.attempts, secret));
      json = await readJsonCapped(response);
    } catch (err) {
      if (err instanceof HttpProblem) throw err;
      return await fail(timer.fired ? providerProblems.upstreamTimeout(route.route) : providerProblems.upstreamError(route.route, response.status, outcome.attempts));
    } finally {
      timer.stop();
    }
    const { body: out, promptTokens } = embedder.parse(json, { model: requested.model, body });
    const billed = promptTokens ?? estimate;
    await finish(billed, 200, null);
    out.usage = { prompt_tokens: billed, total_tokens: billed };
    return Response.json(out, { headers: { 'x-gateway-request-id': requestId, ...(unsupported.length ? { [DROPPED_HEADER]: unsupported.join(', ') } : {}) } });
  } finally {
    key?.fill(0);
  }
}
