import type { OpenApiDoc, Route } from './openapi.js';

/**
 * The judgements of the reliability sweeps, as pure functions of what was observed, so that
 * oracle.happy.test.ts can show each one failing on a deliberately broken answer (and only that one).
 * The sweeps only gather observations and call these.
 */

const id = (fn: string, route: Route) => `${fn} ${route.method} ${route.template}`;

/** "Protected" is what the document declares (operation security, else the document's), never what the route answered. */
export const declaredProtected = (doc: OpenApiDoc & { security?: unknown[] }, route: Route): boolean =>
  ((route.op as { security?: unknown[] }).security ?? doc.security ?? []).length > 0;

/** A declared-protected route must refuse a caller without credentials with 401. */
export function anonymousVerdict(fn: string, route: Route, isProtected: boolean, status: number): string[] {
  return isProtected && status !== 401 ? [`${id(fn, route)}: declared protected, but answered ${status} without credentials`] : [];
}

/** A declared-protected route must refuse every bad credential with 401. */
export function badTokenVerdict(fn: string, route: Route, label: string, status: number): string[] {
  return status !== 401 ? [`${id(fn, route)}: bad credentials "${label}" answered ${status}, not 401`] : [];
}

/** An over-limit body is refused with 413 before anything reads it. */
export function oversizeVerdict(fn: string, route: Route, size: string, status: number): string[] {
  return status !== 413 ? [`${id(fn, route)}: ${size} body answered ${status}, not 413`] : [];
}

/**
 * Org A against org B's object: 404. A 403/422 is acceptable only when org B's own admin, sending the
 * same request, gets the same status (then the role or the body decided, not the id); `ownerStatus` is
 * that control answer, undefined when it was not asked.
 */
export function idorVerdict(fn: string, route: Route, status: number, ownerStatus?: number): string[] {
  if (status === 404) return [];
  if (status === 403 || status === 422) {
    if (ownerStatus === undefined) return [`${id(fn, route)}: org A got ${status}; the owner's control answer is missing`];
    return ownerStatus === status ? [] : [`${id(fn, route)}: org A got ${status} where org B gets ${ownerStatus} (existence leaks)`];
  }
  return [`${id(fn, route)}: org A got ${status} on org B's object (expected 404)`];
}

export type Role = 'viewer' | 'member' | 'admin';
export const ROLES: Role[] = ['viewer', 'member', 'admin'];

export interface RolePolicy {
  /** `METHOD /template` per function: only admins may call these. */
  adminOnly: Record<string, string[]>;
  /** Function whose every mutating route is closed to viewers, and the POSTs exempt from that (they store nothing). */
  viewerReadOnly: { fn: string; readLikePost: RegExp };
}

/** Statuses per role for one route: 403 where due, never 403 for a role above one that was let through. */
export function roleVerdict(fn: string, route: Route, statuses: Record<Role, number>, policy: RolePolicy): string[] {
  const out: string[] = [];
  const key = `${route.method} ${route.template}`;
  for (let i = 0; i < ROLES.length; i++) {
    for (let j = i + 1; j < ROLES.length; j++) {
      const lower = statuses[ROLES[i]!];
      const higher = statuses[ROLES[j]!];
      if (lower < 400 && higher === 403) out.push(`${id(fn, route)}: ${ROLES[j]} refused (403) where ${ROLES[i]} got ${lower}`);
    }
  }
  if (policy.adminOnly[fn]?.includes(key)) {
    if (statuses.viewer !== 403 || statuses.member !== 403) out.push(`${id(fn, route)}: admin-only, but viewer ${statuses.viewer}, member ${statuses.member}`);
    if (statuses.admin === 403) out.push(`${id(fn, route)}: admin refused`);
  }
  const mutating = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(route.method);
  if (fn === policy.viewerReadOnly.fn && mutating && !policy.viewerReadOnly.readLikePost.test(route.template) && statuses.viewer !== 403) {
    out.push(`${id(fn, route)}: a viewer changed something (${statuses.viewer})`);
  }
  return out;
}

/** Every free-text value sent is read back byte for byte (a field the read omits is not judged). */
export function verbatimVerdict(fn: string, route: Route, sent: Record<string, string>, read: Record<string, unknown> | undefined): string[] {
  return Object.entries(sent)
    .filter(([f]) => f in (read ?? {}))
    .filter(([f, v]) => read![f] !== v)
    .map(([f, v]) => `${id(fn, route)}: ${f} stored as ${JSON.stringify(read![f])}, sent ${JSON.stringify(v)}`);
}

/** Any secret appearing in any log line. */
export function logLeaks(secrets: string[], logLines: string[]): string[] {
  return secrets.flatMap((s) => logLines.filter((l) => l.includes(s)).map((l) => `${s.slice(0, 6)}… in ${l.slice(0, 300)}`));
}

/**
 * A sweep's coverage: it must reach exactly the routes it states (from the documents), minus an explicit
 * list of exemptions each with its reason. A route missing, or an exemption no longer needed, fails.
 */
export function coverageVerdict(sweep: string, required: string[], reached: string[], exempt: Record<string, string>): string[] {
  const out: string[] = [];
  const got = new Set(reached);
  for (const r of required) if (!got.has(r) && !(r in exempt)) out.push(`${sweep}: ${r} was not reached`);
  for (const r of Object.keys(exempt)) {
    if (!required.includes(r)) out.push(`${sweep}: exemption for ${r}, which is not a route of the documents any more`);
    else if (got.has(r)) out.push(`${sweep}: ${r} is exempt ("${exempt[r]}") but was reached: drop the exemption`);
  }
  return out;
}
