import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Tx } from '../../shared/db/index.js';
import { problems } from '../../shared/http/index.js';

type Versioned = PgTable & { id: any; version: any };

/**
 * Optimistic locking in SQL: `update … where <scope> and version = $expected`, bumping the version.
 * When no row matched, one more read tells "changed since you read it" (412) from "not there" (404);
 * two writers holding the same ETag therefore never both win, whatever the timing.
 */
export async function updateVersioned<T extends Versioned>(
  tx: Tx,
  table: T,
  scope: SQL | undefined,
  expected: number,
  set: Record<string, unknown>,
  what: string,
): Promise<T['$inferSelect']> {
  const t = table as any;
  const rows = await (tx as any)
    .update(table)
    .set({ ...set, version: sql`${t.version} + 1` })
    .where(and(scope, eq(t.version, expected)))
    .returning();
  if (rows[0]) return rows[0];
  const exists = await (tx as any).select({ id: t.id }).from(table).where(scope).limit(1);
  if (exists.length) throw problems.preconditionFailed();
  throw problems.notFound(what);
}
