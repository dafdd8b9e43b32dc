import { sql } from 'drizzle-orm';
import { config as instanceConfig } from '../config.js';
import type { Database } from '../db/database.js';
import { rowsOf } from '../db/rows.js';
import { HASHABLE_COLUMNS, rangeHash, rowHash, sealHash, type HashableRow } from './hash.js';
import { openSigner } from './signer/index.js';
import { verifySignature, type Signer } from './signer/port.js';

export interface VerifyOptions {
  /** Name only this organization's rows in the report (every row is still recomputed). */
  orgId?: string;
  /** Public keys for signatures; defaults to the instance's configured signer. */
  signer?: Pick<Signer, 'publicKeyPem'>;
}

export interface VerifyResult {
  ok: boolean;
  /** Audit rows whose hash was recomputed (all of them, also in an org-scoped verify). */
  checked: number;
  seals: number;
  /** The first problem in log order: an audit row id, or `seal:<seq>` when no row can be named. */
  firstBad?: { id: string; reason: string };
}

type Row = HashableRow & { row_hash: string };
/** firstBad.id of a problem in a row an org-scoped verify may not name. */
export const OTHER = 'outside-organization';
interface Seal {
  seq: string;
  from_txid: string;
  to_txid: string;
  row_count: string;
  range_hash: string;
  prev_seal_hash: string | null;
  seal_hash: string;
  signature: string | null;
  key_id: string | null;
}

const query = async <T>(database: Database, q: ReturnType<typeof sql>) => rowsOf<T>(await database.db.execute(q));

/**
 * Recomputes what the log claims: every row hash (formula in drizzle/schema/audits.ts), every seal's
 * range hash and row count, the seal chain, and the signatures; reports the first problem in log order.
 * A sealed range that no longer matches (a row deleted, inserted, reordered or rewritten with a recomputed
 * hash) is compared with the exported copies in analytics.audit_events to name the row.
 */
export async function verifyAuditLog(database: Database, options: VerifyOptions = {}): Promise<VerifyResult> {
  const orgId = options.orgId;
  let signer = options.signer;
  const keys = () => (signer ??= openSigner(instanceConfig()));
  const mine = (r: { org_id: string | null }) => !orgId || r.org_id === orgId;
  let checked = 0;
  const fail = (id: string, reason: string, seals: number): VerifyResult => ({ ok: false, checked, seals, firstBad: { id, reason } });

  const seals = await query<Seal>(
    database,
    sql`select seq::text, from_txid::text, to_txid::text, row_count::text, range_hash, prev_seal_hash, seal_hash, signature, key_id from audits.audit_seal s order by s.seq`,
  );

  // Every row is recomputed even for one org: a row edited out of the org must not escape its verify.
  // Only the org's own rows are named to it.
  const checkRows = (rows: Row[]) => {
    for (const r of rows) {
      checked++;
      const expected = rowHash(r);
      if (expected === r.row_hash) continue;
      if (!mine(r)) return { id: OTHER, reason: 'row_hash mismatch on a row outside this organization (row edited)' };
      return { id: r.id, reason: `row_hash mismatch: stored ${r.row_hash.slice(0, 12)}…, recomputed ${expected.slice(0, 12)}… (row edited)` };
    }
    return undefined;
  };

  let prev: Seal | undefined;
  for (const [i, seal] of seals.entries()) {
    const seq = Number(seal.seq);
    const sealId = `seal:${seq}`;
    if (seq !== i + 1) return fail(sealId, `seal sequence broken: expected ${i + 1}`, i);
    if ((seal.prev_seal_hash ?? null) !== (prev?.seal_hash ?? null)) return fail(sealId, 'seal chain broken: prev_seal_hash does not match the previous seal', i);
    const expectedFrom = prev ? Number(prev.to_txid) + 1 : 0;
    if (Number(seal.from_txid) !== expectedFrom) return fail(sealId, `seal ranges not contiguous: from_txid ${seal.from_txid}, expected ${expectedFrom}`, i);
    const recomputed = sealHash({ seq, fromTxid: seal.from_txid, toTxid: seal.to_txid, rowCount: Number(seal.row_count), rangeHash: seal.range_hash, prevSealHash: seal.prev_seal_hash });
    if (recomputed !== seal.seal_hash) return fail(sealId, 'seal_hash does not match the seal fields', i);
    if (seal.signature && seal.key_id) {
      const pem = await keys().publicKeyPem(seal.key_id).catch((err: Error) => err);
      if (pem instanceof Error) return fail(sealId, `signature key ${seal.key_id} unavailable: ${pem.message}`, i);
      if (!verifySignature(pem, Buffer.from(seal.seal_hash, 'utf8'), Buffer.from(seal.signature, 'base64'))) return fail(sealId, 'signature does not verify', i);
    } else if (i === seals.length - 1) {
      return fail(sealId, 'the chain head is not signed', i);
    }

    const rows = await query<Row>(
      database,
      sql`select ${sql.raw(HASHABLE_COLUMNS)} from audits.audit_log a where txid between ${seal.from_txid}::bigint and ${seal.to_txid}::bigint order by a.txid, a.id`,
    );
    const bad = checkRows(rows);
    if (bad) return fail(bad.id, `${bad.reason}; sealed in ${sealId}`, i);
    if (rows.length !== Number(seal.row_count) || rangeHash(rows.map((r) => r.row_hash)) !== seal.range_hash) {
      const located = await locate(database, seq, rows);
      const detail = `sealed ${seal.row_count} rows in txid ${seal.from_txid}..${seal.to_txid}, found ${rows.length}`;
      if (located && (!orgId || located.orgId === orgId)) return fail(located.id, `${located.reason} (${sealId}: ${detail})`, i);
      return fail(sealId, `range_hash mismatch: rows changed after sealing (${detail})`, i);
    }
    prev = seal;
  }

  // Rows after the last seal: only their own hashes can be checked yet.
  const after = prev ? Number(prev.to_txid) : -1;
  const tail = await query<Row>(database, sql`select ${sql.raw(HASHABLE_COLUMNS)} from audits.audit_log a where txid > ${after} order by a.txid, a.id`);
  const bad = checkRows(tail);
  if (bad) return fail(bad.id, `${bad.reason}; not sealed yet`, seals.length);
  return { ok: true, checked, seals: seals.length };
}

/** Walks the range and its exported copy side by side; the first divergence names the row. */
async function locate(database: Database, seq: number, rows: Row[]): Promise<{ id: string; reason: string; orgId: string | null } | undefined> {
  const copies = await query<{ id: string; row_hash: string; org_id: string | null }>(
    database,
    sql`select event_id::text as id, row_hash, org_id::text as org_id from analytics.audit_events
        where table_schema is not null and (payload->>'seal_seq')::bigint = ${seq}
        order by (payload->>'txid')::bigint, event_id`,
  );
  if (!copies.length) return undefined;
  const present = new Set(rows.map((r) => r.id));
  const sealed = new Set(copies.map((c) => c.id));
  for (let i = 0; i < Math.max(rows.length, copies.length); i++) {
    const row = rows[i];
    const copy = copies[i];
    if (row && copy && row.id === copy.id && row.row_hash === copy.row_hash) continue;
    if (copy && !present.has(copy.id)) return { id: copy.id, reason: 'row deleted after sealing', orgId: copy.org_id };
    if (row && !sealed.has(row.id)) return { id: row.id, reason: 'row added to a sealed range', orgId: row.org_id };
    if (row && copy && row.id === copy.id) return { id: row.id, reason: 'row rewritten after sealing (hash recomputed)', orgId: row.org_id };
    if (row) return { id: row.id, reason: 'rows reordered after sealing', orgId: row.org_id };
  }
  return undefined;
}
