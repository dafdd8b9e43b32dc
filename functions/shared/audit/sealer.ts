import { sql } from 'drizzle-orm';
import type { Database, Tx } from '../db/database.js';
import { writeOutbox, type OutboxEvent } from '../events/outbox.js';
import { rowsOf } from '../db/rows.js';
import { HASHABLE_COLUMNS, rangeHash, sealHash, type HashableRow } from './hash.js';
import type { Signer } from './signer/port.js';

export interface SealOptions {
  /** Rows per seal, roughly (a transaction's rows are never split across seals). */
  maxRowsPerSeal?: number;
  /** Seals per run, so one run stays bounded. */
  maxSeals?: number;
  /** Sign every N-th seal; the last seal of a run (the chain head) is always signed. */
  signEvery?: number;
}

export interface SealStats {
  skipped: boolean;
  seals: number;
  rows: number;
  signed: number;
  exported: number;
  head_seq: number | null;
  head_hash: string | null;
  horizon_txid: number | null;
}

/** Also taken by nothing else: one sealer at a time, cluster-wide for this database. */
export const SEAL_LOCK = 7243101;

interface SealRow {
  seq: number;
  fromTxid: number;
  toTxid: number;
  rowCount: number;
  rangeHash: string;
  prevSealHash: string | null;
  sealHash: string;
  signature: string | null;
  keyId: string | null;
}

const one = async <T>(tx: Tx, query: ReturnType<typeof sql>) => rowsOf(await tx.execute(query))[0] as T | undefined;

/**
 * Seals the audit log up to the snapshot horizon: every transaction below pg_snapshot_xmin has finished,
 * so no row can later appear in a sealed txid range (txids are assigned at start, not commit, which is why
 * the horizon is not simply max(txid)). Rows are chained by (txid, id) inside each seal and seals are
 * chained by hash; writers never take a lock for this. The rows of each seal are exported to the
 * audit_events stream (event_id = audit row id) in the same transaction.
 */
export async function sealAudit(database: Database, signer: Signer, options: SealOptions = {}): Promise<SealStats> {
  const maxRows = options.maxRowsPerSeal ?? 5000;
  const maxSeals = options.maxSeals ?? 50;
  const signEvery = Math.max(1, options.signEvery ?? 1);
  const stats: SealStats = { skipped: false, seals: 0, rows: 0, signed: 0, exported: 0, head_seq: null, head_hash: null, horizon_txid: null };

  return database.db.transaction(
    async (tx) => {
      const locked = await one<{ ok: boolean }>(tx, sql`select pg_try_advisory_xact_lock(${SEAL_LOCK}) as ok`);
      if (!locked?.ok) return { ...stats, skipped: true };
      const last = await one<{ seq: string; to_txid: string; seal_hash: string }>(
        tx,
        sql`select s.seq::text as seq, s.to_txid::text as to_txid, s.seal_hash from audits.audit_seal s order by s.seq desc limit 1`,
      );
      const horizon = Number((await one<{ xmin: string }>(tx, sql`select pg_snapshot_xmin(pg_current_snapshot())::text as xmin`))!.xmin);
      stats.horizon_txid = horizon;
      stats.head_seq = last ? Number(last.seq) : null;
      stats.head_hash = last?.seal_hash ?? null;

      let seq = last ? Number(last.seq) : 0;
      let from = last ? Number(last.to_txid) + 1 : 0;
      let prev = last?.seal_hash ?? null;
      const upTo = horizon - 1;
      const seals: { seal: SealRow; rows: (HashableRow & { row_hash: string; occurred_at: Date })[] }[] = [];

      while (from <= upTo && seals.length < maxSeals) {
        const first = await one<{ txid: string | null }>(tx, sql`select min(txid)::text as txid from audits.audit_log where txid between ${from} and ${upTo}`);
        if (!first?.txid) break; // nothing new below the horizon: no empty seals
        const firstTxid = Number(first.txid);
        const cut = await one<{ txid: string }>(
          tx,
          sql`select txid::text from audits.audit_log a where txid between ${from} and ${upTo} order by a.txid, a.id offset ${maxRows} limit 1`,
        );
        // Stop before the transaction holding the (maxRows+1)-th row, unless that is the first one: a transaction is never split.
        const cutTxid = cut ? Number(cut.txid) : undefined;
        const to = cutTxid === undefined ? upTo : cutTxid > firstTxid ? cutTxid - 1 : cutTxid;
        const rows = rowsOf<HashableRow & { row_hash: string; occurred_at: Date }>(
          await tx.execute(sql`select ${sql.raw(HASHABLE_COLUMNS)}, occurred_at from audits.audit_log a where txid between ${from} and ${to} order by a.txid, a.id`),
        );
        seq += 1;
        const fields = { seq, fromTxid: from, toTxid: to, rowCount: rows.length, rangeHash: rangeHash(rows.map((r) => r.row_hash)), prevSealHash: prev };
        const hash = sealHash(fields);
        seals.push({ seal: { ...fields, sealHash: hash, signature: null, keyId: null }, rows });
        prev = hash;
        from = to + 1;
      }
      if (!seals.length) return stats;

      // audit_seal is append-only, so signatures are decided before the insert.
      for (const [i, entry] of seals.entries()) {
        if (entry.seal.seq % signEvery === 0 || i === seals.length - 1) {
          const { signature, keyId } = await signer.sign(Buffer.from(entry.seal.sealHash, 'utf8'));
          entry.seal.signature = signature.toString('base64');
          entry.seal.keyId = keyId;
          stats.signed++;
        }
      }
      for (const { seal, rows } of seals) {
        await tx.execute(sql`
          insert into audits.audit_seal (seq, from_txid, to_txid, row_count, range_hash, prev_seal_hash, seal_hash, signature, key_id)
          values (${seal.seq}, ${seal.fromTxid}, ${seal.toTxid}, ${seal.rowCount}, ${seal.rangeHash}, ${seal.prevSealHash}, ${seal.sealHash}, ${seal.signature}, ${seal.keyId})`);
        for (let i = 0; i < rows.length; i += 500) {
          const events: OutboxEvent[] = rows.slice(i, i + 500).map((r) => ({
            stream: 'audit_events',
            eventId: r.id,
            orgId: r.org_id,
            occurredAt: new Date(r.occurred_at),
            payload: {
              action: r.action,
              actor_id: r.actor_id,
              table_schema: r.table_schema,
              table_name: r.table_name,
              row_id: r.row_id,
              row_hash: r.row_hash,
              payload: { txid: Number(r.txid), seal_seq: seal.seq, old_data: r.old_data === null ? null : JSON.parse(r.old_data), new_data: r.new_data === null ? null : JSON.parse(r.new_data) },
            },
          }));
          await writeOutbox(tx, events);
          stats.exported += events.length;
        }
        stats.seals++;
        stats.rows += rows.length;
      }
      const head = seals[seals.length - 1]!.seal;
      stats.head_seq = head.seq;
      stats.head_hash = head.sealHash;
      return stats;
    },
    { isolationLevel: 'repeatable read' },
  );
}
