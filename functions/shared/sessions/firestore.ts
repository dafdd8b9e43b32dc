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
  /**
   * Every retired token hash (oldest first, at most RETIRED_TOKEN_HISTORY), queried with array-contains;
   * retiredTokenAt[i] is when retiredTokenHashes[i] was rotated away. Absent on documents never
   * rotated since the history was introduced (they remember only previousTokenHash).
   */
  retiredTokenHashes?: string[];
  retiredTokenAt?: Timestamp[];
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
 * How many retired hashes a session document remembers. An older token is forgotten: presented again it
 * answers 'invalid' (401) without revoking the family. At one refresh per 15-minute access token that is
 * 12.5 hours of continuous use by a thief before the victim returns; the document stays ~5 KB.
 */
export const RETIRED_TOKEN_HISTORY = 50;

/** The history fields after retiring `tokenHash` at `at`, seeded from the legacy single previous hash. */
function retire(snap: DocumentSnapshot<DocumentData>, tokenHash: string, at: Date) {
  const d = snap.data() as SessionDoc;
  const legacy = !d.retiredTokenHashes && d.previousTokenHash && d.rotatedAt;
  const hashes: string[] = d.retiredTokenHashes ?? (legacy ? [d.previousTokenHash!] : []);
  const times: (Timestamp | Date)[] = d.retiredTokenAt ?? (legacy ? [d.rotatedAt!] : []);
  return {
    retiredTokenHashes: [...hashes, tokenHash].slice(-RETIRED_TOKEN_HISTORY),
    retiredTokenAt: [...times, at].slice(-RETIRED_TOKEN_HISTORY),
  };
}

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

  /** Any hash the session rotated away (within the history): within ITS grace a retry, later a theft. */
  async function retired(tx: Transaction, col: CollectionReference<DocumentData>, tokenHash: string, at: Date): Promise<RotateResult> {
    let snap = (await tx.get(col.where('retiredTokenHashes', 'array-contains', tokenHash).limit(1))).docs[0];
    let retiredAt: Timestamp | undefined;
    if (snap) {
      const d = snap.data() as SessionDoc;
      retiredAt = d.retiredTokenAt?.[d.retiredTokenHashes!.lastIndexOf(tokenHash)];
    } else {
      // A document not rotated since the history was introduced remembers only its previous hash.
      snap = (await tx.get(col.where('previousTokenHash', '==', tokenHash).limit(1))).docs[0];
      retiredAt = (snap?.get('rotatedAt') as Timestamp | null | undefined) ?? undefined;
    }
    if (!snap || !retiredAt) return { outcome: 'invalid' };
    const record = toRecord(snap);
    if (!isLive(record, at)) return { outcome: 'invalid' };
    if (at.getTime() - retiredAt.toMillis() <= REUSE_GRACE_MS) return { outcome: 'superseded', session: record };
    const family = await tx.get(col.where('familyId', '==', record.familyId));
    const revoked = await revokeLive(tx, family.docs, 'token_reuse', at);
    return { outcome: 'reused', session: record, revoked };
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
        retiredTokenHashes: [],
        retiredTokenAt: [],
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
      // is retried and then finds the token among the retired ones (within its grace), so exactly one wins.
      return db.runTransaction(async (tx) => {
        const snap = (await tx.get(col.where('tokenHash', '==', tokenHash).limit(1))).docs[0];
        const at = now();
        if (!snap) return retired(tx, col, tokenHash, at);
        const record = toRecord(snap);
        if (!isLive(record, at)) return { outcome: 'invalid' } as const;
        const expiresAt = opts.expiresAt(record);
        const changes = rotationChanges(tokenHash, opts, at, expiresAt);
        tx.update(snap.ref, { ...changes, ...retire(snap, tokenHash, at) });
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
