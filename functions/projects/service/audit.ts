import { and, eq } from 'drizzle-orm';
import { auditLog } from '../../../drizzle/schema/audits.js';
import type { Tx } from '../../shared/db/index.js';
import type { Tenant } from '../../shared/http/index.js';
import { page } from '../../shared/http/index.js';
import { keyset } from './paging.js';

export interface AuditQuery {
  limit: number;
  cursor?: string | undefined;
  table?: string | undefined;
  row_id?: string | undefined;
  action?: 'insert' | 'update' | 'delete' | 'event' | undefined;
  actor_id?: string | undefined;
}

/** The caller's org's audit rows, newest first (RLS also limits the app role to its org). */
export async function listAudit(tx: Tx, t: Tenant, q: AuditQuery) {
  const { after, orderBy, key } = keyset({ id: auditLog.id, createdAt: auditLog.occurredAt }, 'created_at', q.cursor);
  const [schemaName, tableName] = q.table?.includes('.') ? q.table.split('.', 2) : [undefined, q.table];
  const rows = await tx
    .select({ row: auditLog, key })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.orgId, t.orgId),
        schemaName ? eq(auditLog.tableSchema, schemaName) : undefined,
        tableName ? eq(auditLog.tableName, tableName) : undefined,
        q.row_id ? eq(auditLog.rowId, q.row_id) : undefined,
        q.action ? eq(auditLog.action, q.action) : undefined,
        q.actor_id ? eq(auditLog.actorId, q.actor_id) : undefined,
        after,
      ),
    )
    .orderBy(...orderBy)
    .limit(q.limit + 1);
  const result = page(rows, q.limit, (r) => [r.key, r.row.id]);
  return { items: result.items.map((r) => r.row), next_cursor: result.next_cursor };
}
