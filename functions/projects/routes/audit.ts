import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { paginationQuery } from '../../shared/http/index.js';
import { verifyAuditLog } from '../../shared/audit/verify.js';
import { openSigner } from '../../shared/audit/signer/index.js';
import type { ProjectsEnv } from '../app.js';
import { listAudit } from '../service/audit.js';
import { errors, jsonObject, listOf, ok, signedIn, uuid, tx } from './support.js';

const AuditRowSchema = z
  .object({
    id: z.string(),
    occurred_at: z.string(),
    actor_id: z.string().nullable(),
    action: z.string(),
    table_schema: z.string(),
    table_name: z.string(),
    row_id: z.string().nullable(),
    old_data: jsonObject.nullable(),
    new_data: jsonObject.nullable(),
    row_hash: z.string(),
  })
  .openapi('AuditRow');

const VerifySchema = z
  .object({ ok: z.boolean(), checked: z.number().int(), seals: z.number().int(), first_bad: z.object({ id: z.string(), reason: z.string() }).nullable() })
  .openapi('AuditVerification');

const listAuditRoute = createRoute({
  method: 'get',
  path: '/audit',
  tags: ['audit'],
  ...signedIn({ role: 'admin' }),
  request: {
    query: paginationQuery.extend({
      table: z.string().max(130).optional().openapi({ description: 'table name, or schema.table' }),
      row_id: z.string().max(100).optional(),
      action: z.enum(['insert', 'update', 'delete', 'event']).optional(),
      actor_id: uuid.optional(),
    }),
  },
  responses: { 200: ok(listOf(AuditRowSchema), 'The organization\'s audit rows, newest first'), ...errors },
});

const verifyRoute = createRoute({
  method: 'get',
  path: '/audit/verify',
  tags: ['audit'],
  ...signedIn({ role: 'admin' }),
  responses: { 200: ok(VerifySchema, 'Row hashes of the organization, seal chain and signatures recomputed'), ...errors },
});

export function registerAudit(app: OpenAPIHono<ProjectsEnv>): void {
  app.openapi(listAuditRoute, async (c) => {
    const r = await tx(c, (tx, t) => listAudit(tx, t, c.req.valid('query')));
    return c.json(
      {
        items: r.items.map((a) => ({
          id: a.id,
          occurred_at: a.occurredAt.toISOString(),
          actor_id: a.actorId,
          action: a.action,
          table_schema: a.tableSchema,
          table_name: a.tableName,
          row_id: a.rowId,
          old_data: (a.oldData ?? null) as Record<string, unknown> | null,
          new_data: (a.newData ?? null) as Record<string, unknown> | null,
          row_hash: a.rowHash,
        })),
        next_cursor: r.next_cursor,
      },
      200,
    );
  });

  // The verifier reads the seal chain, which the application role cannot see, so it runs on the
  // owner connection; it recomputes only the caller's org's rows.
  app.openapi(verifyRoute, async (c) => {
    const principal = c.var.principal;
    const config = c.var.config;
    const result = await verifyAuditLog(c.var.database, { orgId: principal.orgId, signer: { publicKeyPem: (keyId) => openSigner(config).publicKeyPem(keyId) } });
    return c.json({ ok: result.ok, checked: result.checked, seals: result.seals, first_bad: result.firstBad ?? null }, 200);
  });
}
