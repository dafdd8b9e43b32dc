import { send, type Exchange } from './checks.js';
import type { FunctionUnderTest } from './functions.js';
import { collectionOf, exampleOf, fillPath, routesOf, type ExampleContext, type Route } from './openapi.js';

/**
 * Objects of one organization, created through each function's own create routes (POST … → 201
 * with an `id`), in as many passes as nested collections need: /projects first, then
 * /projects/{id}/versions, then /promotions that refer to a version_id, and so on.
 */
export interface Actor {
  token: string;
  userId: string;
  orgId: string;
}

export interface Seeded {
  /** collection segment (projects, versions, keys…) → an id in it */
  ids: Record<string, string>;
  created: { fn: string; route: Route; path: string; id: string; body: unknown; response: any }[];
  exchanges: Exchange[];
}

export const isCreate = (r: Route) => r.method === 'POST' && Boolean(r.op.responses?.['201']) && !r.template.endsWith('}');

export function idResolver(ids: Record<string, string>, actor: Actor) {
  return (field: string): string | undefined => {
    if (field === 'user_id') return actor.userId;
    if (field === 'org_id' || field === 'organization_id') return actor.orgId;
    const base = field.replace(/_id$/, '');
    const last = base.split('_').pop()!;
    for (const b of [base, last]) {
      for (const c of [`${b}s`, `${b}es`, b.replace(/y$/, 'ies'), b]) if (ids[c]) return ids[c];
    }
    return undefined;
  };
}

/** Path parameter values from the ids known so far; undefined when one is missing. */
export function pathFor(route: Route, ids: Record<string, string>, actor: Actor): string | undefined {
  const values: Record<string, string> = {};
  for (const p of route.pathParams) {
    const v = p === 'user_id' ? actor.userId : ids[collectionOf(route.template, p)];
    if (!v) return undefined;
    values[p] = v;
  }
  return fillPath(route.template, values);
}

/**
 * Values the schemas cannot express (a rule checked in the handler): with them more collections can be
 * created, so more object routes are attacked. Unknown fields fall back to the schema-derived example.
 */
export const DOMAIN_HINTS: Record<string, unknown> = {
  rego: 'package lattice.reliability\n\ndefault allow := true\n',
  channel: 'log',
};

export async function seedObjects(fns: FunctionUnderTest[], actor: Actor, ctx: Omit<ExampleContext, 'idFor'> = {}): Promise<Seeded> {
  const seeded: Seeded = { ids: {}, created: [], exchanges: [] };
  const done = new Set<string>();
  for (let pass = 0; pass < 5; pass++) {
    let progress = false;
    for (const fn of fns) {
      for (const route of routesOf(fn.name, fn.doc).filter(isCreate)) {
        const key = `${fn.name} ${route.template}`;
        if (done.has(key)) continue;
        const path = pathFor(route, seeded.ids, actor);
        if (!path) continue;
        const override = (f: string) => ctx.override?.(f) ?? DOMAIN_HINTS[f];
        const body = route.bodySchema ? exampleOf(fn.doc, route.bodySchema, { ...ctx, override, idFor: idResolver(seeded.ids, actor) }) : undefined;
        const x = await send(fn.app, fn.name, 'seed', 'POST', path, {
          headers: { authorization: `Bearer ${actor.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          body: body !== undefined ? JSON.stringify(body) : undefined,
        });
        seeded.exchanges.push(x);
        if (x.status === 201 && typeof x.json?.id === 'string') {
          done.add(key);
          progress = true;
          const collection = route.template.split('/').filter(Boolean).pop()!;
          seeded.ids[collection] ??= x.json.id;
          seeded.created.push({ fn: fn.name, route, path, id: x.json.id, body, response: x.json });
        }
      }
    }
    if (!progress) break;
  }
  return seeded;
}
