import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/db.js';
import { projectsApp } from '../support/projects.js';
import { createTenant } from '../support/tenants.js';

const { database } = await createTestDatabase({ poolMax: 12 });
const { api } = projectsApp(database);

describe('optimistic locking under real parallel requests', () => {
  it('of N PATCHes sent with the same ETag exactly one wins; the others get 412', async () => {
    const t = await createTenant(database, { role: 'member' });
    for (let round = 0; round < 3; round++) {
      const p = (await api('POST', '/projects', t.token, { name: `race ${round}` })).json;
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => api('PATCH', `/projects/${p.id}`, t.token, { name: `winner ${i}` }, { 'if-match': '"1"' })),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([200, ...Array(7).fill(412)]);
      const winner = results.find((r) => r.status === 200)!;
      const now = (await api('GET', `/projects/${p.id}`, t.token)).json;
      expect(now).toMatchObject({ name: winner.json.name, version: 2 });
    }
  });

  it('two concurrent PATCHes with one ETag: one 200, one 412 problem+json', async () => {
    const t = await createTenant(database, { role: 'member' });
    const p = (await api('POST', '/projects', t.token, { name: 'pair' })).json;
    const [a, b] = await Promise.all([
      api('PATCH', `/projects/${p.id}`, t.token, { description: 'a' }, { 'if-match': '"1"' }),
      api('PATCH', `/projects/${p.id}`, t.token, { description: 'b' }, { 'if-match': '"1"' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 412]);
    const loser = a.status === 412 ? a : b;
    expect(loser.headers.get('content-type')).toBe('application/problem+json');
    expect(loser.json.type).toBe('urn:lattice-lock:problem:precondition-failed');
  });
});
