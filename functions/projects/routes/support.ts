import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Tx } from '../../shared/db/index.js';
import { inTenant, moreProblems, paginationQuery, problem, problemResponses, type Tenant } from '../../shared/http/index.js';
import type { ProjectsEnv } from '../app.js';
import { projectsDbErrors } from '../errors.js';

export type Ctx = Context<ProjectsEnv, any, any>;

/**
 * The route's one tenant transaction (the kernel's inTenant) with this function's unique keys bound:
 * `tx(c, (tx, t) => service(tx, t, input))`. The caller's role was checked by the route's `signedIn`.
 */
export const tx = <T>(c: Ctx, fn: (tx: Tx, tenant: Tenant) => Promise<T>): Promise<T> => inTenant(c, fn, projectsDbErrors);

export const errors = {
  ...problemResponses,
  409: problem('Conflict or illegal state transition'),
} as const;

export const lockErrors = {
  ...errors,
  412: moreProblems[412],
  428: moreProblems[428],
} as const;

export { idParams, listOf, ok, signedIn } from '../../shared/http/index.js';

/** Text without NUL or unpaired surrogates (the kernel's rule, see shared/http/input.ts) or surrounding whitespace. */
export { text } from '../../shared/http/index.js';

/** A JSON object stored as jsonb (its size is bounded by the 1 MiB body limit). */
export const jsonObject = z.record(z.string(), z.unknown());

export const uuid = z.uuid();
export const listQuery = paginationQuery.extend({ sort: z.enum(['created_at', 'name']).default('created_at') });


export const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);
export const isoNN = (d: Date): string => d.toISOString();

export const booleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

/** A service's page in its wire form: every row through its response shape, the cursor as it is. */
export const pageOut = <R, O>(page: { items: R[]; next_cursor: string | null }, out: (row: R) => O) => ({ items: page.items.map(out), next_cursor: page.next_cursor });

/** A JSON body the client may leave out: a bare POST means `{}` (a rollback or a decision without a reason). */
export const optionalJsonBody = <S extends z.ZodType>(schema: S) => ({ required: false, content: { 'application/json': { schema } } });

/** The body of such a route, `{}` when none was sent. `schema` names what the route declared. */
export const optionalBody = <S extends z.ZodType>(c: Ctx, schema: S): Partial<z.infer<S>> => (c.req.valid('json' as never) as z.infer<typeof schema> | undefined) ?? {};

/** `…/{id}/{decision}` of a four-eyes decision (promotions, re-evaluations), and the state each one leads to. */
export const decisionParams = z.object({ id: uuid, decision: z.enum(['approve', 'reject']) });
export const decided = { approve: 'approved', reject: 'rejected' } as const;
