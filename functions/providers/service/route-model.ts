import { HttpProblem } from '../../shared/http/index.js';
import type { Principal } from '../../shared/security/tokens.js';
import { qualifyModel, type ModelListDeps } from './model-lists.js';
import { resolveRouteCached, type ResolvedRoute } from './resolve.js';

/**
 * The model the client named → its route. `<route>/<model>` resolves directly (the hot path, one
 * cached query); a bare name (`gpt-4o-mini`), or a name whose first segment is no route of the caller
 * (`meta-llama/Llama-3.3-70B` on a compatible server), resolves when exactly one of the caller's
 * routes offers it, else 404 naming the candidates.
 */
export async function resolveModel(deps: ModelListDeps, principal: Principal, name: string): Promise<ResolvedRoute> {
  const tenant = { orgId: principal.orgId, userId: principal.userId };
  if (name.includes('/')) {
    try {
      return await resolveRouteCached(deps.database, tenant, name);
    } catch (err) {
      if (!(err instanceof HttpProblem) || err.code !== 'model-not-found') throw err;
    }
  }
  const qualified = await qualifyModel(deps, principal, name);
  if (typeof qualified === 'string') return resolveRouteCached(deps.database, tenant, qualified);
  const { candidates } = qualified;
  throw new HttpProblem(404, 'model-not-found', candidates.length
    ? `model "${name}" is offered by several of your routes: ${candidates.slice(0, 20).join(', ')}; name one of them`
    : `no route of yours offers model "${name}": use <provider>/<model> or <your key name>/<model> (GET /v1/models lists them)`, { candidates });
}
