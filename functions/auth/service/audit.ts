import { and, desc, eq, sql } from 'drizzle-orm';
import { auditLogs, type AuthAuditEvent } from '../../../drizzle/schema/auth.js';
import type { Queryable, Tx } from '../../shared/db/database.js';
import type { Tenant } from '../../shared/http/transactions.js';
import { decodeCursor, page } from '../../shared/http/pagination.js';
import { sha256Hex } from '../../shared/security/hashing.js';
import type { ClientInfo } from './client.js';

export interface AuthEventInput {
  event: AuthAuditEvent;
  orgId?: string | null;
  userId?: string | null;
  emailHash?: string | null;
  client: ClientInfo;
  details?: Record<string, unknown>;
}

/** SHA-256 of the normalised address: correlates attempts on one account without storing the address. */
export const emailHashOf = (email: string) => sha256Hex(email.trim().toLowerCase());

/** Appends to auth.audit_logs in the caller's transaction (append-only table). */
export async function writeAuthEvent(tx: Queryable, e: AuthEventInput): Promise<void> {
  await tx.insert(auditLogs).values({
    event: e.event,
    orgId: e.orgId ?? null,
    userId: e.userId ?? null,
    emailHash: e.emailHash ?? null,
    ip: e.client.ip,
    userAgent: e.client.userAgent,
    details: e.details ?? {},
  });
}

export interface AuditQuery {
  limit: number;
  cursor?: string;
  event?: AuthAuditEvent;
  user_id?: string;
}

/** The organization's auth events, newest first (RLS limits the rows to the caller's org). */
export async function listAuthEvents(tx: Tx, t: Tenant, q: AuditQuery) {
  const after = decodeCursor(q.cursor, ['timestamp', 'uuid']);
  const conditions = [eq(auditLogs.orgId, t.orgId)];
  if (q.event) conditions.push(eq(auditLogs.event, q.event));
  if (q.user_id) conditions.push(eq(auditLogs.userId, q.user_id));
  // The cursor keeps created_at as PostgreSQL's text (microseconds): a JS Date would round it.
  if (after) conditions.push(sql`(${auditLogs.createdAt}, ${auditLogs.id}) < (${String(after[0])}::timestamptz, ${String(after[1])}::uuid)`);
  const rows = await tx
    .select({ row: auditLogs, cursorAt: sql<string>`${auditLogs.createdAt}::text` })
    .from(auditLogs)
    .where(and(...conditions))
    .orderBy(desc(auditLogs.createdAt), desc(auditLogs.id))
    .limit(q.limit + 1);
  const keys = new Map(rows.map((r) => [r.row.id, r.cursorAt]));
  const items = rows.map(({ row: r }) => ({
    id: r.id,
    event: r.event,
    user_id: r.userId,
    ip: r.ip,
    user_agent: r.userAgent,
    details: r.details,
    created_at: r.createdAt.toISOString(),
  }));
  return page(items, q.limit, (r) => [keys.get(r.id)!, r.id]);
}
