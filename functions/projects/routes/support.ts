import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { withTenant, type Tx } from '../../shared/db/index.js';
import { assertRole, moreProblems, paginationQuery, problem, problemResponses } from '../../shared/http/index.js';
import type { Principal, Role } from '../../shared/security/tokens.js';
import type { ProjectsEnv } from '../app.js';
import { mapDbError } from '../errors.js';

export type Ctx = Context<ProjectsEnv, any, any>;

/**
 * Runs `fn` in one tenant transaction (RLS beneath the service's own org filters) after checking
 * the caller's role; database errors a client can provoke become problems, never 500s.
 */
export async function inTenant<T>(c: Ctx, minimum: Role, fn: (tx: Tx, principal: Principal) => Promise<T>): Promise<T> {
  const principal = c.var.principal;
  assertRole(principal, minimum);
  try {
    return await withTenant(c.var.database, { orgId: principal.orgId, userId: principal.userId }, (tx) => fn(tx, principal));
  } catch (err) {
    throw mapDbError(err);
  }
}

export const errors = {
  ...problemResponses,
  409: problem('Conflict or illegal state transition'),
} as const;

export const lockErrors = {
  ...errors,
  412: moreProblems[412],
  428: moreProblems[428],
} as const;

export { idParams, listOf, ok } from '../../shared/http/index.js';

/** Text without NUL or unpaired surrogates (the kernel's rule, see shared/http/input.ts) or surrounding whitespace. */
export { text } from '../../shared/http/index.js';

/** A JSON object stored as jsonb (its size is bounded by the 1 MiB body limit). */
export const jsonObject = z.record(z.string(), z.unknown());

export const uuid = z.uuid();
export const listQuery = paginationQuery.extend({ sort: z.enum(['created_at', 'name']).default('created_at') });


export const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);
export const isoNN = (d: Date): string => d.toISOString();

export const booleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');
