import type { Context } from 'hono';
import { problems } from './problem.js';

/** Editable resources carry their `version` column as a strong ETag. */
export const etagOf = (version: number) => `"${version}"`;

export function setEtag(c: Context, version: number): void {
  c.header('ETag', etagOf(version));
}

/**
 * What an If-Match that names no version of ours (`*`, a weak list, garbage) stands for: a version
 * no row ever has. Versions start at 1 and quotas treat 0 as "not created yet", so -1 matches nothing.
 */
export const UNMATCHABLE_VERSION = -1;

/**
 * The version the client says it edits, from If-Match: 428 when missing.
 *
 * An If-Match we cannot read is NOT refused here: RFC 9110 §13.2.1 says a server MUST ignore the
 * preconditions when the request without them would not have been 2xx or 412 — another tenant's
 * (or a missing) object answers 404 whatever If-Match says, so an unreadable header only becomes a
 * 412 after the service found the row. It travels as UNMATCHABLE_VERSION, which no row's version
 * equals. (`*` is treated the same way: we require the ETag that was read, DESIGN.md § API.)
 *
 * The update itself must still compare versions in SQL (`where version = $expected`) and, when no
 * row matched, tell 404 (not there) from 412 (changed), so two concurrent writers cannot both win.
 */
export function expectedVersion(c: Context): number {
  const header = c.req.header('if-match');
  if (!header) throw problems.preconditionRequired();
  const match = header.trim().match(/^(?:W\/)?"(\d{1,9})"$/);
  return match ? Number(match[1]) : UNMATCHABLE_VERSION;
}
