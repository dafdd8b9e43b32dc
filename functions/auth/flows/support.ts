import type { Context } from 'hono';
import type { Tx } from '../../shared/db/database.js';
import { inSystem } from '../../shared/http/transactions.js';
import type { AuthEnv } from '../app.js';
import { clientInfo } from '../service/client.js';
import { countAttempt, type LimitContext, type LimitRules } from '../service/rate-limit.js';

/** What a flow is given: the route's context (services, database, principal, log, client address). */
export type AuthContext = Context<AuthEnv, any, any>;

/**
 * One system transaction that first counts the attempt against `rules` and, when none refuses, runs
 * `fn` (a pre-tenant lookup) in the same transaction. A refusal is committed (the counts and its
 * `rate_limited` audit row) before it is thrown: thrown inside, it would roll them back.
 */
export async function limited<T = void>(
  c: AuthContext,
  rules: LimitRules,
  context: LimitContext,
  fn: (tx: Tx) => Promise<T> = async () => undefined as T,
): Promise<T> {
  const outcome = await inSystem(c, async (tx) => {
    const refused = await countAttempt(tx, rules, clientInfo(c), context);
    return refused ? { refused } : { value: await fn(tx) };
  });
  if ('refused' in outcome) throw outcome.refused;
  return outcome.value;
}
