import { randomBytes, randomUUID } from 'node:crypto';
import { FieldValue, Firestore } from '@google-cloud/firestore';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { firestoreSessionStore, RETIRED_TOKEN_HISTORY } from '../../../functions/shared/sessions/firestore.js';
import { REUSE_GRACE_MS, type SessionStore } from '../../../functions/shared/sessions/port.js';
import { sha256Hex } from '../../../functions/shared/security/hashing.js';
import { describeSessionStore } from '../../support/contracts/session-store.contract.js';

// The emulator is shared by parallel test files: a project of our own keeps our documents apart.
process.env.FIRESTORE_EMULATOR_HOST ??= inject('firestoreHost');
// No GCE metadata server here: skip the client's probe for one (seconds of warnings otherwise).
process.env.METADATA_SERVER_DETECTION ??= 'none';
const projectId = `sessions-contract-${randomUUID().slice(0, 8)}`;
const stores: SessionStore[] = [];
const client = new Firestore({ projectId });

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await client.terminate();
  await fetch(`http://${process.env.FIRESTORE_EMULATOR_HOST}/emulator/v1/projects/${projectId}/databases/(default)/documents`, { method: 'DELETE' });
});

describeSessionStore('firestore (emulator)', {
  make: (clock) => {
    const store = firestoreSessionStore({ projectId, clock });
    stores.push(store);
    return store;
  },
  newUser: async () => ({ userId: randomUUID(), orgId: randomUUID() }),
});

describe('firestore retired-token history', () => {
  let offset = 0;
  const store = firestoreSessionStore({ client, clock: () => new Date(Date.now() + offset) });
  const hash = () => sha256Hex(randomBytes(32));
  const opts = (newTokenHash = hash()) => ({ newTokenHash, expiresAt: () => new Date(Date.now() + offset + 3_600_000) });
  const owner = () => ({ userId: randomUUID(), orgId: randomUUID() });

  it(`remembers the last ${RETIRED_TOKEN_HISTORY} retired hashes; an older token is refused without revoking`, async () => {
    const scope = owner();
    const tokens = [hash()];
    const created = await store.create({ ...scope, tokenHash: tokens[0]!, expiresAt: new Date(Date.now() + offset + 3_600_000) });
    for (let i = 0; i <= RETIRED_TOKEN_HISTORY; i++) {
      tokens.push(hash());
      expect((await store.rotate(tokens[i]!, opts(tokens[i + 1]))).outcome).toBe('rotated');
    }
    const doc = (await client.collection('sessions').doc(created.id).get()).data()!;
    expect(doc.retiredTokenHashes).toEqual(tokens.slice(1, RETIRED_TOKEN_HISTORY + 1));
    expect(doc.retiredTokenAt).toHaveLength(RETIRED_TOKEN_HISTORY);
    offset += REUSE_GRACE_MS + 1_000;
    expect((await store.rotate(tokens[0]!, opts())).outcome).toBe('invalid');
    expect(await store.listLive(scope)).toHaveLength(1);
    expect(await store.rotate(tokens[1]!, opts())).toMatchObject({ outcome: 'reused', revoked: 1 });
  });

  it('a document from before the history still detects reuse of its previous hash, and seeds the history', async () => {
    const scope = owner();
    const [t1, t2, t3] = [hash(), hash(), hash()];
    const created = await store.create({ ...scope, tokenHash: t1, expiresAt: new Date(Date.now() + offset + 3_600_000) });
    await store.rotate(t1, opts(t2));
    const legacy = { retiredTokenHashes: FieldValue.delete(), retiredTokenAt: FieldValue.delete() };
    await client.collection('sessions').doc(created.id).update(legacy);
    expect((await store.rotate(t1, opts())).outcome).toBe('superseded');

    await store.rotate(t2, opts(t3));
    expect((await client.collection('sessions').doc(created.id).get()).get('retiredTokenHashes')).toEqual([t1, t2]);
    offset += REUSE_GRACE_MS + 1_000;
    expect(await store.rotate(t1, opts())).toMatchObject({ outcome: 'reused', revoked: 1 });
    expect((await store.rotate(t3, opts())).outcome).toBe('invalid');
  });

  it('a legacy document never rotated since still revokes on its previous hash after the grace', async () => {
    const scope = owner();
    const [t1, t2] = [hash(), hash()];
    const created = await store.create({ ...scope, tokenHash: t1, expiresAt: new Date(Date.now() + offset + 3_600_000) });
    await store.rotate(t1, opts(t2));
    await client.collection('sessions').doc(created.id).update({ retiredTokenHashes: FieldValue.delete(), retiredTokenAt: FieldValue.delete() });
    offset += REUSE_GRACE_MS + 1_000;
    expect(await store.rotate(t1, opts())).toMatchObject({ outcome: 'reused', revoked: 1 });
    expect((await store.rotate(t2, opts())).outcome).toBe('invalid');
  });
});
