import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/db.js';
import { approvedPromotion, ok, versionReadyForPromotion } from '../support/lifecycle.js';
import { projectsApp } from '../support/projects.js';
import { createTenant } from '../support/tenants.js';
import { domainEvents } from '../support/domain-events.js';

const { database } = await createTestDatabase({ poolMax: 12 });
const { api } = projectsApp(database);

describe('concurrent apply of one promotion', () => {
  it('exactly one of N parallel applies succeeds; the rest get 409 and the zone moves once', async () => {
    const admin1 = await createTenant(database, { role: 'admin' });
    const admin2 = await createTenant(database, { role: 'admin', orgId: admin1.orgId });
    for (let round = 0; round < 3; round++) {
      const s = await versionReadyForPromotion(api, admin1);
      const promotion = await approvedPromotion(api, admin1, admin2, s.version.id, s.evaluation.id);
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => api('POST', `/promotions/${promotion.id}/apply`, i % 2 ? admin1.token : admin2.token)));
      expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409]);
      for (const r of results.filter((x) => x.status === 409)) expect(r.json.type).toBe('urn:lattice-lock:problem:illegal-transition');
      const history = (await ok(api('GET', `/projects/${s.project.id}/history?version_id=${s.version.id}`, admin1.token))).items;
      expect(history.map((h: any) => `${h.from_zone}->${h.to_zone}`)).toEqual(['v1->v2', 'null->v1']);
      expect((await ok(api('GET', `/promotions/${promotion.id}`, admin1.token))).status).toBe('applied');
      // One winner, one set of events: the losers' transactions wrote none.
      const events = (await domainEvents(database, admin1.orgId)).filter((e) => e.payload.version_id === s.version.id);
      expect(events.filter((e) => e.payload.type === 'promotion.applied')).toHaveLength(1);
      expect(events.filter((e) => e.payload.type === 'version.zone_changed').map((e) => [e.payload.from, e.payload.to])).toEqual([['v1', 'v2']]);
    }
  });
});
