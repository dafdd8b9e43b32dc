import { randomUUID } from 'node:crypto';
import { afterAll, inject } from 'vitest';
import { firestoreSessionStore } from '../../functions/shared/sessions/firestore.js';
import type { SessionStore } from '../../functions/shared/sessions/port.js';
import { describeSessionStore } from '../contract/session-store.contract.js';

// The emulator is shared by parallel test files: a project of our own keeps our documents apart.
process.env.FIRESTORE_EMULATOR_HOST ??= inject('firestoreHost');
// No GCE metadata server here: skip the client's probe for one (seconds of warnings otherwise).
process.env.METADATA_SERVER_DETECTION ??= 'none';
const projectId = `sessions-contract-${randomUUID().slice(0, 8)}`;
const stores: SessionStore[] = [];

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
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
