import type { Context } from 'hono';
import { problems } from './problem.js';

/** Editable resources carry their `version` column as a strong ETag. */
export const etagOf = (version: number) => `"${version}"`;

export function setEtag(c: Context, version: number): void {
  c.header('ETag', etagOf(version));
}

/**
 * The version the client says it edits, from If-Match: 428 when missing, 412 when unparseable.
 * The update itself must still compare versions in SQL (`where version = $expected`) and answer
 * 412 when no row matched, so two concurrent writers cannot both win.
 */
export function expectedVersion(c: Context): number {
  const header = c.req.header('if-match');
  if (!header) throw problems.preconditionRequired();
  const match = header.trim().match(/^(?:W\/)?"(\d{1,9})"$/);
  if (!match) throw problems.preconditionFailed('If-Match must be the ETag you read, e.g. "3"');
  return Number(match[1]);
}
