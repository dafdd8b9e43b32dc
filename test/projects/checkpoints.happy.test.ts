import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { withSystem } from '../../functions/shared/db/index.js';
import { createTestDatabase } from '../support/db.js';
import { expectProblem, projectsApp } from '../support/projects.js';
import { createTenant, type TestTenant } from '../support/tenants.js';

const { database } = await createTestDatabase();
const { api } = projectsApp(database);

let admin: TestTenant;
let member: TestTenant;
beforeAll(async () => {
  admin = await createTenant(database, { role: 'admin' });
  member = await createTenant(database, { role: 'member', orgId: admin.orgId });
});

const rego = 'package lattice.p\n';

/** Everything a checkpoint promises to restore, as clients see it. */
async function state(projectId: string) {
  const project = (await api('GET', `/projects/${projectId}`, admin.token)).json;
  const versions = (await api('GET', `/projects/${projectId}/versions`, admin.token)).json.items.map((v: any) => ({
    id: v.id, version_number: v.version_number, zone: v.zone, config: v.config, config_hash: v.config_hash, notes: v.notes,
  }));
  const baselines = (await api('GET', `/projects/${projectId}/baselines`, admin.token)).json.items.map((b: any) => ({ id: b.id, metric: b.metric, operator: b.operator, threshold: b.threshold }));
  const policies = (await api('GET', `/projects/${projectId}/policies`, admin.token)).json.items.map((x: any) => x.id);
  const { name, slug, description, status, schema_status, sheriff_status, gauntlet_status, last_validated_at } = project;
  return { project: { name, slug, description, status, schema_status, sheriff_status, gauntlet_status, last_validated_at }, versions, baselines, policies };
}

describe('checkpoints and rollback', () => {
  it('restores exactly the checkpointed project, versions, baselines and policy links, in one go', async () => {
    const p = (await api('POST', '/projects', member.token, { name: 'Rollback me', description: 'before' })).json;
    const v1 = (await api('POST', `/projects/${p.id}/versions`, member.token, { config: { lr: 0.1 }, notes: 'one' })).json;
    await api('POST', `/projects/${p.id}/versions`, member.token, { config: { lr: 0.2 } });
    const b1 = (await api('POST', `/projects/${p.id}/baselines`, member.token, { metric: 'acc', operator: '>=', threshold: 0.9 })).json;
    await api('POST', `/projects/${p.id}/baselines`, member.token, { metric: 'loss', operator: '<', threshold: 0.3 });
    const pol1 = (await api('POST', '/policies', member.token, { name: 'pol-1', rego })).json;
    const pol2 = (await api('POST', '/policies', member.token, { name: 'pol-2', rego })).json;
    await api('POST', `/projects/${p.id}/policies`, member.token, { policy_id: pol1.id });
    await api('POST', `/projects/${p.id}/validations`, member.token, { kind: 'schema', result: 'passed' });
    const before = await state(p.id);

    const cp = await api('POST', `/projects/${p.id}/checkpoints`, member.token, { reason: 'known good' });
    expect(cp.status).toBe(201);
    expect(cp.json).toMatchObject({ reason: 'known good', snapshot: { format: 1, policy_ids: [pol1.id] } });
    expect(cp.json.snapshot.versions).toHaveLength(2);

    // Change everything the checkpoint covers.
    const etag = (await api('GET', `/projects/${p.id}`, admin.token)).headers.get('etag')!;
    await api('PATCH', `/projects/${p.id}`, member.token, { name: 'Renamed', description: 'after' }, { 'if-match': etag });
    const v3 = (await api('POST', `/projects/${p.id}/versions`, member.token, { config: { lr: 0.3 } })).json;
    await withSystem(database, (tx) => tx.execute(sql`update projects.versions set zone = 'v2' where id = ${v1.id}`));
    await api('PATCH', `/projects/${p.id}/baselines/${b1.id}`, member.token, { threshold: 0.5 }, { 'if-match': '"1"' });
    await api('POST', `/projects/${p.id}/baselines`, member.token, { metric: 'f1', operator: '>', threshold: 0.7 });
    await api('DELETE', `/projects/${p.id}/policies/${pol1.id}`, member.token);
    await api('POST', `/projects/${p.id}/policies`, member.token, { policy_id: pol2.id });
    await api('POST', `/projects/${p.id}/validations`, member.token, { kind: 'gauntlet', result: 'failed' });
    const changed = await state(p.id);
    expect(changed).not.toEqual(before);

    expectProblem(await api('POST', `/projects/${p.id}/checkpoints/${cp.json.id}/rollback`, member.token, { reason: 'x' }), 403);
    const rolled = await api('POST', `/projects/${p.id}/checkpoints/${cp.json.id}/rollback`, admin.token, { reason: 'bad release' });
    expect(rolled.status).toBe(200);
    expect(rolled.json).toMatchObject({ checkpoint_id: cp.json.id, undo_checkpoint_id: expect.any(String), project: { name: 'Rollback me', status: 'healthy' } });
    expect(await state(p.id)).toEqual(before);

    // The zone change it undid is in the history, with the actor; the writes are audited.
    const history = (await api('GET', `/projects/${p.id}/history?version_id=${v1.id}`, admin.token)).json.items;
    expect(history[0]).toMatchObject({ from_zone: 'v2', to_zone: 'v1', actor_id: admin.userId, reason: `rollback to checkpoint ${cp.json.id}: bad release` });
    const audit = (await api('GET', `/audit?actor_id=${admin.userId}&table=rollback_checkpoints`, admin.token)).json.items;
    expect(audit.map((a: any) => a.row_id)).toContain(rolled.json.undo_checkpoint_id);
    const projectAudit = (await api('GET', `/audit?actor_id=${admin.userId}&table=projects&row_id=${p.id}`, admin.token)).json.items;
    expect(projectAudit.length).toBeGreaterThan(0);

    // The rollback can itself be undone: the later version comes back with its id and number.
    const undo = await api('POST', `/projects/${p.id}/checkpoints/${rolled.json.undo_checkpoint_id}/rollback`, admin.token);
    expect(undo.status).toBe(200);
    expect(await state(p.id)).toEqual(changed);
    expect((await api('GET', `/projects/${p.id}/versions/${v3.id}`, admin.token)).json.version_number).toBe(3);
  });

  it('lists and reads checkpoints; unknown ones are 404', async () => {
    const p = (await api('POST', '/projects', member.token, { name: 'cp list' })).json;
    for (const reason of ['a', 'b', 'c']) await api('POST', `/projects/${p.id}/checkpoints`, member.token, { reason });
    const list = await api('GET', `/projects/${p.id}/checkpoints?limit=2`, member.token);
    expect(list.json.items.map((c: any) => c.reason)).toEqual(['c', 'b']);
    const next = await api('GET', `/projects/${p.id}/checkpoints?limit=2&cursor=${list.json.next_cursor}`, member.token);
    expect(next.json).toMatchObject({ items: [expect.objectContaining({ reason: 'a' })], next_cursor: null });
    expect((await api('GET', `/projects/${p.id}/checkpoints/${list.json.items[0].id}`, member.token)).json.reason).toBe('c');
    expectProblem(await api('POST', `/projects/${p.id}/checkpoints/00000000-0000-4000-8000-000000000000/rollback`, admin.token), 404);
  });
});
