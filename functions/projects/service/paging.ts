import { asc, desc, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { decodeCursor, problems } from '../../shared/http/index.js';

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
