import { randomUUID } from 'node:crypto';
import type { CollectionReference, DocumentData, DocumentSnapshot, Firestore, Timestamp, Transaction } from '@google-cloud/firestore';
import type { SessionRevokedReason } from '../../../drizzle/schema/auth.js';
import { isLive, REUSE_GRACE_MS, rotationChanges, systemClock, type Clock, type RotateResult, type SessionRecord, type SessionStore } from './port.js';

export interface FirestoreSessionOptions {
  projectId?: string;
  databaseId?: string;
  /** Collection name; `sessions` in production (its TTL policy is on `expiresAt`). */
  collection?: string;
  clock?: Clock;
  /** Tests may pass a ready client. */
  client?: Firestore;
}

interface SessionDoc {
  userId: string;
  orgId: string;
  familyId: string;
  tokenHash: string;
  previousTokenHash: string | null;
  rotatedAt: Timestamp | null;
  userAgent: string | null;
  ip: string | null;
  createdAt: Timestamp;
  lastUsedAt: Timestamp;
  /** The TTL field: Firestore deletes the document some time (up to days) after this instant. */
  expiresAt: Timestamp;
  revokedAt: Timestamp | null;
  revokedReason: SessionRevokedReason | null;
}

const toRecord = (snap: DocumentSnapshot<DocumentData>): SessionRecord => {
  const d = snap.data() as SessionDoc;
  return {
    id: snap.id,
    userId: d.userId,
    orgId: d.orgId,
    familyId: d.familyId,
    userAgent: d.userAgent ?? null,
    ip: d.ip ?? null,
    createdAt: d.createdAt.toDate(),
    lastUsedAt: d.lastUsedAt.toDate(),
    expiresAt: d.expiresAt.toDate(),
    revokedAt: d.revokedAt ? d.revokedAt.toDate() : null,
    revokedReason: d.revokedReason ?? null,
  };
};

/**
 * The production adapter. @google-cloud/firestore is imported on first use, never at module load
 * (it costs ~0.15 s of cold start, and the embedded mode never needs it). With FIRESTORE_EMULATOR_HOST
 * set the client talks to the emulator.
 */
export function firestoreSessionStore(options: FirestoreSessionOptions = {}): SessionStore {
  const now = options.clock ?? systemClock;
  const name = options.collection ?? 'sessions';
  let client: Promise<Firestore> | undefined;
  const firestore = () =>
    (client ??= options.client
      ? Promise.resolve(options.client)
      : import('@google-cloud/firestore').then(
          ({ Firestore }) =>
            new Firestore({
              ...(options.projectId ? { projectId: options.projectId } : {}),
              ...(options.databaseId ? { databaseId: options.databaseId } : {}),
              ignoreUndefinedProperties: true,
            }),
        ));
  const collection = async (): Promise<CollectionReference<DocumentData>> => (await firestore()).collection(name);

  /** Reads first, writes after: Firestore transactions require it. */
  async function revokeLive(tx: Transaction, snaps: DocumentSnapshot[], reason: SessionRevokedReason, at: Date): Promise<number> {
    let n = 0;
    for (const snap of snaps) {
      if (!isLive(toRecord(snap), at)) continue;
      tx.update(snap.ref, { revokedAt: at, revokedReason: reason });
      n++;
    }
    return n;
  }

  return {
    kind: 'firestore',

    async create(input) {
      const col = await collection();
      const id = randomUUID();
      const at = now();
      const doc = {
        userId: input.userId,
        orgId: input.orgId,
        familyId: input.familyId ?? id,
        tokenHash: input.tokenHash,
        previousTokenHash: null,
        rotatedAt: null,
        userAgent: input.userAgent ?? null,
        ip: input.ip ?? null,
        createdAt: at,
        lastUsedAt: at,
        expiresAt: input.expiresAt,
        revokedAt: null,
        revokedReason: null,
      };
      await col.doc(id).create(doc);
      return { id, ...doc, revokedAt: null, revokedReason: null } as SessionRecord;
    },

    async rotate(tokenHash, opts): Promise<RotateResult> {
      const col = await collection();
      const db = await firestore();
      // Inside runTransaction the documents read are locked; a concurrent refresh of the same token
      // is retried and then sees the token already rotated, so exactly one wins.
      return db.runTransaction(async (tx) => {
        let snap = (await tx.get(col.where('tokenHash', '==', tokenHash).limit(1))).docs[0];
        const current = Boolean(snap);
        snap ??= (await tx.get(col.where('previousTokenHash', '==', tokenHash).limit(1))).docs[0];
        const at = now();
        if (!snap) return { outcome: 'invalid' } as const;
        const record = toRecord(snap);
        if (!isLive(record, at)) return { outcome: 'invalid' } as const;
        if (!current) {
          const rotatedAt = (snap.get('rotatedAt') as Timestamp | null)?.toMillis() ?? 0;
          if (at.getTime() - rotatedAt <= REUSE_GRACE_MS) return { outcome: 'superseded', session: record } as const;
          const family = await tx.get(col.where('familyId', '==', record.familyId));
          const revoked = await revokeLive(tx, family.docs, 'token_reuse', at);
          return { outcome: 'reused', session: record, revoked } as const;
        }
        const expiresAt = opts.expiresAt(record);
        const changes = rotationChanges(tokenHash, opts, at, expiresAt);
        tx.update(snap.ref, changes);
        return {
          outcome: 'rotated',
          session: { ...record, lastUsedAt: at, expiresAt, ip: changes.ip ?? record.ip, userAgent: changes.userAgent ?? record.userAgent },
        } as const;
      });
    },

    async get(scope, id) {
      const snap = await (await collection()).doc(id).get();
      if (!snap.exists) return undefined;
      const record = toRecord(snap);
      return record.userId === scope.userId && record.orgId === scope.orgId && isLive(record, now()) ? record : undefined;
    },

    async listLive(scope) {
      // Equality on userId only: no composite index to deploy; a user has few sessions, and expired
      // documents the TTL has not yet deleted are filtered here.
      const snaps = await (await collection()).where('userId', '==', scope.userId).limit(500).get();
      const at = now();
      return snaps.docs
        .map(toRecord)
        .filter((s) => s.orgId === scope.orgId && isLive(s, at))
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
    },

    async revoke(scope, id, reason) {
      const col = await collection();
      return (await firestore()).runTransaction(async (tx) => {
        const snap = await tx.get(col.doc(id));
        if (!snap.exists) return false;
        const record = toRecord(snap);
        if (record.userId !== scope.userId || record.orgId !== scope.orgId) return false;
        return (await revokeLive(tx, [snap], reason, now())) > 0;
      });
    },

    async revokeByToken(tokenHash, reason) {
      const col = await collection();
      return (await firestore()).runTransaction(async (tx) => {
        const snap = (await tx.get(col.where('tokenHash', '==', tokenHash).limit(1))).docs[0];
        const at = now();
        if (!snap || !(await revokeLive(tx, [snap], reason, at))) return undefined;
        return { ...toRecord(snap), revokedAt: at, revokedReason: reason };
      });
    },

    async revokeFamily(familyId, reason) {
      const col = await collection();
      return (await firestore()).runTransaction(async (tx) => revokeLive(tx, (await tx.get(col.where('familyId', '==', familyId))).docs, reason, now()));
    },

    async revokeAllForUser(scope, reason, exceptId) {
      const col = await collection();
      return (await firestore()).runTransaction(async (tx) => {
        const snaps = (await tx.get(col.where('userId', '==', scope.userId))).docs.filter(
          (s) => s.id !== exceptId && s.get('orgId') === scope.orgId,
        );
        return revokeLive(tx, snaps, reason, now());
      });
    },

    async ping() {
      await (await collection()).limit(1).get();
    },

    async close() {
      if (client && !options.client) await (await client).terminate();
    },
  };
}
