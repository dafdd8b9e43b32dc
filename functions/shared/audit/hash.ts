import { createHash } from 'node:crypto';

export const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * An audit row as read for hashing: timestamps formatted by PostgreSQL (to_char … MS"Z") and jsonb as its
 * canonical ::text, because re-serialising parsed JSON in JavaScript would not reproduce it.
 */
export interface HashableRow {
  id: string;
  occurred: string;
  txid: string;
  org_id: string | null;
  actor_id: string | null;
  action: string;
  table_schema: string;
  table_name: string;
  row_id: string | null;
  old_data: string | null;
  new_data: string | null;
}

/**
 * The columns to select for HashableRow (keep in step with audits.audit_log_row_hash()). They are
 * renamed to text, so ORDER BY must name the table's columns (`order by a.txid, a.id`), not these.
 */
export const HASHABLE_COLUMNS = `id::text as id, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as occurred,
  txid::text as txid, org_id::text as org_id, actor_id::text as actor_id, action, table_schema, table_name, row_id,
  old_data::text as old_data, new_data::text as new_data, row_hash`;

/** The documented row_hash formula of drizzle/schema/audits.ts, recomputed outside the database. */
export function rowHash(r: HashableRow): string {
  return sha256Hex(
    [r.id, r.occurred, r.txid, r.org_id ?? '', r.actor_id ?? '', r.action, r.table_schema, r.table_name, r.row_id ?? '', r.old_data ?? '', r.new_data ?? ''].join('|'),
  );
}

/** range_hash = sha256(row hashes joined by "\n" in (txid, id) order; '' when empty). */
export const rangeHash = (rowHashes: string[]) => sha256Hex(rowHashes.join('\n'));

export interface SealFields {
  seq: number;
  fromTxid: number | string;
  toTxid: number | string;
  rowCount: number;
  rangeHash: string;
  prevSealHash: string | null;
}

/** seal_hash = sha256(seq|from_txid|to_txid|row_count|range_hash|prev_seal_hash or ''). It is also what gets signed. */
export const sealHash = (s: SealFields) =>
  sha256Hex([s.seq, s.fromTxid, s.toTxid, s.rowCount, s.rangeHash, s.prevSealHash ?? ''].map(String).join('|'));
