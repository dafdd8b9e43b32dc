import { postgresSessionStore } from '../../functions/shared/sessions/postgres.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant } from '../support/tenants.js';
import { describeSessionStore } from '../contract/session-store.contract.js';

const { database } = await createTestDatabase();

describeSessionStore('postgres (auth.sessions)', {
  make: (clock) => postgresSessionStore(database, { clock }),
  newUser: async () => {
    const t = await createTenant(database, { role: 'member' });
    return { userId: t.userId, orgId: t.orgId };
  },
});
