import { sql } from 'drizzle-orm';
import { bigint, check, index, jsonb, pgSchema, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { ts } from './_columns.js';

export const auditsSchema = pgSchema('audits');

/**
 * Append-only change log, written by public.lattice_audit_row_change() (0000_kernel.sql) and by the owner.
 * PARTITION BY RANGE (occurred_at), monthly partitions audit_log_yYYYYmMM, no default partition: the
 * partitioning clause is added to the generated CREATE TABLE by hand (drizzle cannot express it), so the
 * primary key must include occurred_at. No foreign keys: the log outlives the orgs and users it mentions.
 *
 * row_hash is set by the BEFORE INSERT trigger audits.audit_log_row_hash() (audits.up.sql), which also
 * truncates occurred_at to milliseconds (so a JavaScript Date round-trips it) and forces txid:
 *
 *   row_hash = encode(sha256(convert_to(concat_ws('|',
 *       id::text,
 *       to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),   -- = Date#toISOString()
 *       txid::text,
 *       coalesce(org_id::text, ''),
 *       coalesce(actor_id::text, ''),
 *       action, table_schema, table_name,
 *       coalesce(row_id, ''),
 *       coalesce(old_data::text, ''),
 *       coalesce(new_data::text, '')), 'UTF8')), 'hex')
 *
 * A verifier must read old_data/new_data as `::text` (jsonb's text output is canonical: sorted keys,
 * normalised spacing); re-serialising parsed JSON in JavaScript does not reproduce it.
 */
export const auditLog = auditsSchema.table(
  'audit_log',
  {
    id: uuid('id').notNull().default(sql`gen_random_uuid()`),
    occurredAt: ts('occurred_at').notNull().defaultNow(),
    // Transaction id: seals cover txid ranges below the oldest running transaction, so late commits are never skipped.
    txid: bigint('txid', { mode: 'number' }).notNull().default(sql`(pg_current_xact_id()::text::bigint)`),
    orgId: uuid('org_id'),
    actorId: uuid('actor_id'),
    action: text('action').notNull(),
    tableSchema: text('table_schema').notNull(),
    tableName: text('table_name').notNull(),
    rowId: text('row_id'),
    oldData: jsonb('old_data'),
    newData: jsonb('new_data'),
    // Placeholder only: the BEFORE INSERT trigger always overwrites it, and the CHECK rejects '' if it is missing.
    rowHash: text('row_hash').notNull().default(''),
  },
  (t) => [
    primaryKey({ name: 'audit_log_pkey', columns: [t.id, t.occurredAt] }),
    index('audit_log_org_id_occurred_at_idx').on(t.orgId, t.occurredAt.desc()),
    index('audit_log_txid_id_idx').on(t.txid, t.id),
    check('audit_log_action_check', sql`${t.action} IN ('insert', 'update', 'delete', 'event')`),
    check('audit_log_row_hash_check', sql`${t.rowHash} ~ '^[0-9a-f]{64}$'`),
  ],
);

/**
 * Chained seals over audit_log (append-only). Seal `seq` covers the rows with from_txid <= txid <= to_txid;
 * the next seal starts at to_txid + 1, and to_txid must be below pg_snapshot_xmin(pg_current_snapshot()) when
 * sealing (txids are assigned at start, not commit, so a lower txid can still be in flight). Suggested formulas for the sealer and verifier (sha256, hex):
 *   range_hash = sha256(coalesce(string_agg(row_hash, E'\n' ORDER BY txid, id), ''))
 *   seal_hash  = sha256(concat_ws('|', seq, from_txid, to_txid, row_count, range_hash, coalesce(prev_seal_hash, '')))
 *   signature  = KMS asymmetric signature of seal_hash (base64), key_id = the KMS key version name.
 */
export const auditSeal = auditsSchema.table(
  'audit_seal',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    fromTxid: bigint('from_txid', { mode: 'number' }).notNull(),
    toTxid: bigint('to_txid', { mode: 'number' }).notNull(),
    rowCount: bigint('row_count', { mode: 'number' }).notNull(),
    rangeHash: text('range_hash').notNull(),
    prevSealHash: text('prev_seal_hash'),
    sealHash: text('seal_hash').notNull(),
    signature: text('signature'),
    keyId: text('key_id'),
    sealedAt: ts('sealed_at').notNull().defaultNow(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('audit_seal_seal_hash_uq').on(t.sealHash),
    uniqueIndex('audit_seal_to_txid_uq').on(t.toTxid),
    check('audit_seal_seq_check', sql`${t.seq} >= 1`),
    check('audit_seal_txid_range_check', sql`${t.fromTxid} >= 0 AND ${t.toTxid} >= ${t.fromTxid}`),
    check('audit_seal_row_count_check', sql`${t.rowCount} >= 0`),
    check('audit_seal_range_hash_check', sql`${t.rangeHash} ~ '^[0-9a-f]{64}$'`),
    check('audit_seal_seal_hash_check', sql`${t.sealHash} ~ '^[0-9a-f]{64}$'`),
    check(
      'audit_seal_prev_seal_hash_check',
      sql`(${t.seq} = 1) = (${t.prevSealHash} IS NULL) AND (${t.prevSealHash} IS NULL OR ${t.prevSealHash} ~ '^[0-9a-f]{64}$')`,
    ),
    check('audit_seal_signature_check', sql`(${t.signature} IS NULL) = (${t.keyId} IS NULL)`),
  ],
);
