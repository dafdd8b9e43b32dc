import { unsupportedParams, type ChatRequest, type ProviderKind } from '../adapters/index.js';
import { UnsupportedInput } from '../adapters/openai-shapes.js';
import type { HttpProblem } from '../../shared/http/index.js';
import { providerProblems } from './errors.js';

/**
 * Parameters a route cannot honour answer 400 naming the parameter (OpenAI `error.param`, read from
 * the problem's first `errors[]` path) and the route, never silently dropped. `drop_params: true` in
 * the request (as LiteLLM's proxy accepts it) or on the BYOK key drops them instead; the response then
 * lists them in DROPPED_HEADER.
 */
export const DROPPED_HEADER = 'x-lattice-dropped-params';

export const unsupportedParameter = (route: string, param: string, reason: string): HttpProblem => providerProblems.unsupportedParameter(route, param, reason);

export const unsupportedContent = (route: string, err: UnsupportedInput): HttpProblem => providerProblems.unsupportedContent(route, err.param, err.message);

export function applyParams(kind: ProviderKind, route: string, body: ChatRequest, keyDrops = false): { body: ChatRequest; dropped: string[] } {
  const { drop_params: requested, ...rest } = body;
  const drop = requested === true || keyDrops;
  const unsupported = unsupportedParams(kind, rest as ChatRequest);
  if (!unsupported.length) return { body: rest as ChatRequest, dropped: [] };
  if (!drop) throw unsupportedParameter(route, unsupported[0]!.param, unsupported[0]!.reason);
  for (const u of unsupported) delete (rest as Record<string, unknown>)[u.param];
  return { body: rest as ChatRequest, dropped: unsupported.map((u) => u.param) };
}
