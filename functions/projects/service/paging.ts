import { and, asc, desc, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Tx } from '../../shared/db/index.js';
import { decodeCursor, page, problems } from '../../shared/http/index.js';

export type SortKey = 'created_at' | 'name';

export interface KeysetColumns {
  id: AnyPgColumn;
  createdAt: AnyPgColumn;
  name?: AnyPgColumn;
}

const ISO_US = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Microsecond text of a timestamp: a JavaScript Date keeps milliseconds only, and a cursor that
 * rounded created_at would skip or repeat rows created within the same millisecond.
 */
export const timestampText = (col: AnyPgColumn) =>
  sql<string>`to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * Keyset pagination over (created_at desc, id desc) or (name asc, id asc): the where clause after
 * the cursor, the order, and the expression to select as the row's cursor key.
 */
export function keyset(cols: KeysetColumns, sort: SortKey, cursor: string | undefined): { after: SQL | undefined; orderBy: SQL[]; key: SQL<string> } {
  const byName = sort === 'name' && cols.name !== undefined;
  const key = byName ? sql<string>`${cols.name}` : timestampText(cols.createdAt);
  const orderBy = byName ? [asc(cols.name!), asc(cols.id)] : [desc(cols.createdAt), desc(cols.id)];
  const values = decodeCursor(cursor, [byName ? 'text' : 'timestamp', 'uuid']);
  if (!values) return { after: undefined, orderBy, key };
  const [k, id] = values;
  if (typeof k !== 'string' || typeof id !== 'string' || !UUID.test(id) || (!byName && !ISO_US.test(k))) {
    throw problems.badRequest('cursor is not valid for this list', 'invalid-cursor');
  }
  const after = byName
    ? sql`(${cols.name}, ${cols.id}) > (${k}, ${id}::uuid)`
    : sql`(${cols.createdAt}, ${cols.id}) < (${k}::timestamptz, ${id}::uuid)`;
  return { after, orderBy, key };
}

/**
 * One page of a table's rows under `filters`, in keyset order (q.sort, else newest first), with the
 * cursor of the next page: the one way a projects service lists.
 */
export async function keysetPage<T extends PgTable & KeysetColumns>(
  tx: Tx,
  table: T,
  q: { limit: number; cursor?: string | undefined; sort?: SortKey },
  ...filters: (SQL | undefined)[]
): Promise<{ items: T['$inferSelect'][]; next_cursor: string | null }> {
  const { after, orderBy, key } = keyset(table, q.sort ?? 'created_at', q.cursor);
  const rows = (await tx
    .select({ row: table as PgTable, key })
    .from(table as PgTable)
    .where(and(...filters, after))
    .orderBy(...orderBy)
    .limit(q.limit + 1)) as unknown as { row: T['$inferSelect'] & { id: string }; key: string }[];
  const result = page(rows, q.limit, (r) => [r.key, r.row.id]);
  return { items: result.items.map((r) => r.row), next_cursor: result.next_cursor };
}
