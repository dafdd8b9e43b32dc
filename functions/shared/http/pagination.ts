import { z } from '@hono/zod-openapi';
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

export function decodeCursor(cursor: string | undefined, arity: number): CursorValue[] | undefined {
  if (!cursor) return undefined;
  try {
    const values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(values) && values.length === arity && values.every((v) => v === null || ['string', 'number'].includes(typeof v))) {
      return values as CursorValue[];
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
