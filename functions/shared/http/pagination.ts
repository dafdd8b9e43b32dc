import { z } from '@hono/zod-openapi';
import { isSafeText } from './input.js';
import { problems } from './problem.js';

/**
 * Keyset pagination: `?limit&cursor` → `{ items, next_cursor }`. The cursor is the sort key of the
 * last row served (opaque base64url JSON), so rows inserted between pages are neither skipped nor
 * repeated, unlike OFFSET.
 */
export const paginationQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50).openapi({ description: 'page size (1–100)' }),
  cursor: z.string().max(512).optional().openapi({ description: 'next_cursor of the previous page' }),
});

export type CursorValue = string | number | null;

export function encodeCursor(values: CursorValue[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/**
 * What each position of a list's cursor holds. `timestamp` takes what the lists write: ISO 8601
 * (`2026-12-03T10:00:00.123Z`) or PostgreSQL's timestamptz text (`2026-12-03 10:00:00.123456+00`),
 * for a calendar instant that exists; `uuid` a canonical uuid; `text` safe text (no NUL, no unpaired
 * surrogate) of at most 512 characters; `number` a finite number.
 */
export type CursorKind = 'timestamp' | 'uuid' | 'text' | 'number';
type ValueOf<K extends CursorKind> = K extends 'number' ? number : string;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(?:Z|[+-](\d{2})(?::?(\d{2}))?)$/;

/** A timestamp text that names a real instant: month 1–12, a day the month has, 00:00:00–23:59:59, year ≥ 1. */
export function isStrictTimestamp(s: string): boolean {
  const m = TIMESTAMP.exec(s);
  if (!m) return false;
  const [year, month, day, hour, minute, second, offH = '0', offM = '0'] = m.slice(1).map((x) => (x === undefined ? undefined : Number(x))) as number[];
  const daysInMonth = new Date(Date.UTC(2000, month!, 0)).getUTCDate() + (month === 2 && !isLeap(year!) ? -1 : 0);
  return year! >= 1 && month! >= 1 && month! <= 12 && day! >= 1 && day! <= daysInMonth && hour! <= 23 && minute! <= 59 && second! <= 59 && Number(offH) <= 15 && Number(offM) <= 59;
}
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

const valid: Record<CursorKind, (v: unknown) => boolean> = {
  timestamp: (v) => typeof v === 'string' && isStrictTimestamp(v),
  uuid: (v) => typeof v === 'string' && UUID.test(v),
  text: (v) => typeof v === 'string' && v.length <= 512 && isSafeText(v),
  number: (v) => typeof v === 'number' && Number.isFinite(v),
};

/**
 * The one way a list reads its cursor: base64url JSON of exactly `kinds.length` values, each of
 * its kind. Anything else, however well-formed its base64 and JSON, is a cursor this list did not
 * make and answers 400 invalid-cursor, before any value reaches a query.
 */
export function decodeCursor<const K extends readonly CursorKind[]>(cursor: string | undefined, kinds: K): { [I in keyof K]: ValueOf<K[I]> } | undefined {
  if (!cursor) return undefined;
  try {
    const values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(values) && values.length === kinds.length && kinds.every((kind, i) => valid[kind](values[i]))) {
      return values as { [I in keyof K]: ValueOf<K[I]> };
    }
  } catch {
    // fall through: a cursor we did not make
  }
  throw problems.badRequest('cursor is not valid for this list', 'invalid-cursor');
}

/**
 * Given `limit + 1` rows fetched in sort order, returns the page and the cursor of its last row.
 * @example
 * const rows = await q.limit(limit + 1);
 * return c.json(page(rows, limit, (r) => [r.createdAt.toISOString(), r.id]));
 */
export function page<T>(rows: T[], limit: number, keyOf: (row: T) => CursorValue[]): { items: T[]; next_cursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next_cursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
}
