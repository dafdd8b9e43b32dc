import { describe, expect, it } from 'vitest';
import { createProject } from '../../functions/projects/service/projects.js';
import type { Tenant } from '../../functions/shared/http/index.js';
import { createTestDatabase, inRolledBackTenant } from '../support/db.js';
import { approvedPromotion, ok, versionReadyForPromotion } from '../support/lifecycle.js';
import { expectProblem, projectsApp } from '../support/projects.js';
import { createTeam } from '../support/tenants.js';
import { domainEvents, typesOf } from '../support/domain-events.js';

const { database } = await createTestDatabase();
const { api } = projectsApp(database);

const { admin1, admin2, member } = await createTeam(database, { admin1: 'admin', admin2: 'admin', member: 'member' });

/** Runs a refused request and proves the outbox of the org did not move: the event rolled back with the change. */
async function refusedWithoutEvents(request: () => ReturnType<typeof api>, code: string) {
  const before = await domainEvents(database, admin1.orgId);
  expectProblem(await request(), 409, code);
  const after = await domainEvents(database, admin1.orgId);
  expect(after.map((e) => e.event_id)).toEqual(before.map((e) => e.event_id));
}

describe('a refused transition writes no event', () => {
  it('an event written in a transaction that then fails is rolled back with the change', async () => {
    const tenant: Tenant = { userId: member.userId, orgId: member.orgId, role: 'member' };
    const before = await domainEvents(database, admin1.orgId);
    const written = await inRolledBackTenant(database, tenant, async (tx, t) => (await createProject(tx, t, { name: 'doomed' })).id);
    expect(written).toEqual(expect.any(String));
    expect((await database.pool!.query(`select count(*)::int as n from projects.projects where id = $1`, [written])).rows[0].n).toBe(0);
    expect((await domainEvents(database, admin1.orgId)).map((e) => e.event_id)).toEqual(before.map((e) => e.event_id));
  });

  it('an apply refused after its status flip (blacklisted hash) leaves no promotion.applied and no zone change', async () => {
    const config = { model: 'banned', n: Math.random() };
    const { version, evaluation } = await versionReadyForPromotion(api, member, { config });
    const promotion = await approvedPromotion(api, admin1, admin2, version.id, evaluation.id);
    await ok(api('POST', '/blacklist', admin2.token, { config_hash: version.config_hash, reason: 'leaked' }), 201);
    await refusedWithoutEvents(() => api('POST', `/promotions/${promotion.id}/apply`, admin1.token), 'config-blacklisted');
    expect((await ok(api('GET', `/promotions/${promotion.id}`, member.token))).status).toBe('approved');
    const types = typesOf(await domainEvents(database, admin1.orgId));
    expect(types).not.toContain('promotion.applied');
    expect(types).not.toContain('version.zone_changed');
  });

  it('illegal promotion, task, re-evaluation and restore moves answer 409 and emit nothing', async () => {
    const { project, version, evaluation } = await versionReadyForPromotion(api, member);
    const promotion = await approvedPromotion(api, admin1, admin2, version.id, evaluation.id);
    await refusedWithoutEvents(() => api('POST', `/promotions/${promotion.id}/reject`, admin2.token, { reason: 'too late' }), 'illegal-transition');
    await ok(api('POST', `/promotions/${promotion.id}/apply`, admin1.token));
    await refusedWithoutEvents(() => api('POST', `/promotions/${promotion.id}/apply`, admin1.token), 'illegal-transition');

    const session = await ok(api('POST', `/projects/${project.id}/analysis-sessions`, member.token, { version_id: version.id }), 201);
    const task = await ok(api('POST', `/analysis-sessions/${session.id}/tasks`, member.token, { type: 'static' }), 201);
    await refusedWithoutEvents(() => api('POST', `/analysis-sessions/${session.id}/tasks/${task.id}/transition`, member.token, { status: 'completed' }), 'illegal-transition');

    const record = await ok(api('POST', `/projects/${project.id}/versions/${version.id}/quarantine`, admin1.token, { reason: 'drift' }), 201);
    await refusedWithoutEvents(() => api('POST', `/projects/${project.id}/versions/${version.id}/quarantine`, admin1.token, { reason: 'again' }), 'wrong-zone');
    const reeval = await ok(api('POST', `/quarantine/${record.id}/reevaluations`, member.token, { reason: 'please' }), 201);
    await ok(api('POST', `/reevaluations/${reeval.id}/reject`, admin1.token));
    await refusedWithoutEvents(() => api('POST', `/reevaluations/${reeval.id}/approve`, admin1.token), 'illegal-transition');

    await refusedWithoutEvents(() => api('POST', `/projects/${project.id}/restore`, admin1.token), 'not-deleted');

    // What did succeed left exactly one event per transition.
    const mine = (await domainEvents(database, admin1.orgId)).filter((e) => e.payload.project_id === project.id);
    expect(typesOf(mine)).toEqual([
      'project.created',
      'version.created',
      'promotion.requested',
      'promotion.approved',
      'promotion.applied',
      'version.zone_changed',
      'version.zone_changed',
      'quarantine.recorded',
      'reevaluation.decided',
    ]);
  });

  it('a rollback refused whole (it would erase a quarantined version) emits no checkpoint or zone event', async () => {
    const project = await ok(api('POST', '/projects', member.token, { name: 'rb events' }), 201);
    const cp = await ok(api('POST', `/projects/${project.id}/checkpoints`, member.token, { reason: 'empty' }), 201);
    const v = await ok(api('POST', `/projects/${project.id}/versions`, member.token, { config: { q: 1 } }), 201);
    await ok(api('POST', `/projects/${project.id}/versions/${v.id}/quarantine`, admin1.token, { reason: 'bad' }), 201);
    const before = await domainEvents(database, admin1.orgId);
    expect((await api('POST', `/projects/${project.id}/checkpoints/${cp.id}/rollback`, admin1.token)).status).toBe(409);
    expect((await domainEvents(database, admin1.orgId)).map((e) => e.event_id)).toEqual(before.map((e) => e.event_id));
  });
});
