import { describe, expect, it } from 'vitest';
import { deterministicUuid } from '../../functions/shared/events/ids.js';
import { createTestDatabase } from '../support/db.js';
import { ok } from '../support/lifecycle.js';
import { projectsApp } from '../support/projects.js';
import { createTeam, createTenant } from '../support/tenants.js';
import { domainEvents, expectValidRows, typesOf } from '../support/domain-events.js';

const { database } = await createTestDatabase();
const { api } = projectsApp(database);

const { admin1, admin2, member } = await createTeam(database, { admin1: 'admin', admin2: 'admin', member: 'member' });

describe('domain events of the projects function', () => {
  it('the whole journey leaves its ordered domain events in ops.outbox, small and schema-valid', async () => {
    const secretish = 'sk-config-value-never-in-events';
    const config = { model: 'lattice-7b', api_key_ref: secretish };
    const project = await ok(api('POST', '/projects', member.token, { name: 'Evented' }), 201);
    const version = await ok(api('POST', `/projects/${project.id}/versions`, member.token, { config }), 201);
    await ok(api('POST', `/projects/${project.id}/validations`, member.token, { kind: 'schema', result: 'passed' }), 201);
    // Same derived status again: a write, but no status change, so no event.
    await ok(api('POST', `/projects/${project.id}/validations`, member.token, { kind: 'schema', result: 'passed' }), 201);
    await ok(api('POST', `/projects/${project.id}/baselines`, member.token, { metric: 'accuracy', operator: '>=', threshold: 0.9 }), 201);
    const experiment = await ok(api('POST', `/projects/${project.id}/experiments`, member.token, { version_id: version.id, name: 'run' }), 201);
    await ok(api('POST', `/experiments/${experiment.id}/start`, member.token));
    const evaluation = await ok(api('POST', `/experiments/${experiment.id}/evaluations`, member.token, { metrics: { accuracy: 0.95 }, ai_verdict: 'pass' }), 201);

    const promotion = await ok(api('POST', '/promotions', admin1.token, { version_id: version.id, evaluation_id: evaluation.id, reason: 'ship it' }), 201);
    await ok(api('POST', `/promotions/${promotion.id}/approve`, admin2.token, { reason: 'numbers are good' }));
    await ok(api('POST', `/promotions/${promotion.id}/apply`, admin1.token));

    const session = await ok(api('POST', `/projects/${project.id}/analysis-sessions`, member.token, { version_id: version.id }), 201);
    const task = await ok(api('POST', `/analysis-sessions/${session.id}/tasks`, member.token, { type: 'static' }), 201);
    await ok(api('POST', `/analysis-sessions/${session.id}/tasks/${task.id}/transition`, member.token, { status: 'running' }));
    await ok(api('POST', `/analysis-sessions/${session.id}/tasks/${task.id}/transition`, member.token, { status: 'completed', result: { issues: 0 } }));

    const banned = await ok(api('POST', '/blacklist', admin2.token, { config_hash: version.config_hash, reason: 'prompt injection found' }), 201);
    const record = banned.quarantined[0];
    const reeval = await ok(api('POST', `/quarantine/${record.id}/reevaluations`, member.token, { reason: 'fixed upstream' }), 201);
    const decided = await ok(api('POST', `/reevaluations/${reeval.id}/approve`, admin1.token, { reason: 'verified' }));

    const checkpoint = await ok(api('POST', `/projects/${project.id}/checkpoints`, member.token, { reason: 'known good' }), 201);
    await ok(api('POST', `/projects/${project.id}/versions`, member.token, { config: { model: 'later' } }), 201);
    const rolled = await ok(api('POST', `/projects/${project.id}/checkpoints/${checkpoint.id}/rollback`, admin1.token, { reason: 'bad release' }));

    const current = await api('GET', `/projects/${project.id}`, admin1.token);
    expect((await api('DELETE', `/projects/${project.id}`, admin1.token, undefined, { 'if-match': current.headers.get('etag')! })).status).toBe(204);
    await ok(api('POST', `/projects/${project.id}/restore`, admin1.token));

    const events = await domainEvents(database, admin1.orgId);
    expect(typesOf(events)).toEqual([
      'project.created',
      'version.created',
      'project.status_changed',
      'promotion.requested',
      'promotion.approved',
      'promotion.applied',
      'version.zone_changed',
      'analysis_session.status_changed',
      'analysis_session.status_changed',
      'config.blacklisted',
      'version.zone_changed',
      'quarantine.recorded',
      'version.created',
      'reevaluation.decided',
      'version.created',
      'checkpoint.rolled_back',
      'project.deleted',
      'project.restored',
    ]);
    const byType = (type: string) => events.filter((e) => e.payload.type === type).map((e) => e.payload);

    // Who and what, in ids and from/to.
    expect(events[0]!.payload).toEqual({ type: 'project.created', actor_id: member.userId, project_id: project.id });
    expect(byType('project.status_changed')).toEqual([{ type: 'project.status_changed', actor_id: member.userId, project_id: project.id, from: 'unknown', to: 'healthy' }]);
    expect(byType('promotion.approved')[0]).toMatchObject({ actor_id: admin2.userId, promotion_id: promotion.id, from: 'requested', to: 'approved', reason: 'numbers are good' });
    expect(byType('promotion.applied')[0]).toMatchObject({ actor_id: admin1.userId, promotion_id: promotion.id, version_id: version.id, evaluation_id: evaluation.id });
    const zones = byType('version.zone_changed');
    expect(zones.map((z) => [z.version_id, z.from, z.to, z.actor_id])).toEqual([
      [version.id, 'v1', 'v2', admin1.userId],
      [version.id, 'v2', 'v3', admin2.userId],
    ]);
    expect(zones[0]!.reason).toContain(promotion.id);
    expect(zones[1]!.reason).toContain('prompt injection found');
    expect(byType('analysis_session.status_changed').map((s) => [s.session_id, s.from, s.to])).toEqual([
      [session.id, 'pending', 'running'],
      [session.id, 'running', 'completed'],
    ]);
    expect(byType('config.blacklisted')[0]).toMatchObject({ blacklist_id: banned.id, config_hash: version.config_hash, quarantined_versions: 1 });
    expect(byType('quarantine.recorded')[0]).toMatchObject({ record_id: record.id, version_id: version.id, source: 'blacklist', from_zone: 'v2' });
    expect(byType('reevaluation.decided')[0]).toMatchObject({ request_id: reeval.id, record_id: record.id, from: 'pending', to: 'approved', new_version_id: decided.new_version.id });
    expect(byType('version.created').map((v) => v.version_number)).toEqual([1, 2, 3]);
    expect(byType('checkpoint.rolled_back')[0]).toMatchObject({ project_id: project.id, checkpoint_id: checkpoint.id, undo_checkpoint_id: rolled.undo_checkpoint_id, versions_deleted: 1, reason: 'bad release' });

    // Small payloads: no config travels, and every event belongs to the org.
    for (const e of events) {
      expect(JSON.stringify(e.payload)).not.toContain(secretish);
      expect(e.payload).not.toHaveProperty('config');
      expect(e.org_id).toBe(admin1.orgId);
    }
    // Deterministic ids: a re-emitted transition carries the id the outbox and the sink dedup on.
    expect(events[0]!.event_id).toBe(deterministicUuid('projects', 'project.created', project.id));
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);

    expectValidRows(events);
  });

  it('a rejected promotion and a rejected re-evaluation are events too; plain edits are not', async () => {
    const tenant = await createTenant(database, { role: 'admin' });
    const other = await createTenant(database, { role: 'admin', orgId: tenant.orgId });
    const project = await ok(api('POST', '/projects', tenant.token, { name: 'Rejections' }), 201);
    await ok(api('PATCH', `/projects/${project.id}`, tenant.token, { description: 'an edit' }, { 'if-match': '"1"' }));
    const version = await ok(api('POST', `/projects/${project.id}/versions`, tenant.token, { config: { r: 1 } }), 201);
    const experiment = await ok(api('POST', `/projects/${project.id}/experiments`, tenant.token, { version_id: version.id, name: 'e' }), 201);
    await ok(api('POST', `/experiments/${experiment.id}/start`, tenant.token));
    const evaluation = await ok(api('POST', `/experiments/${experiment.id}/evaluations`, tenant.token, { metrics: { accuracy: 1 }, ai_verdict: 'pass' }), 201);
    const promotion = await ok(api('POST', '/promotions', tenant.token, { version_id: version.id, evaluation_id: evaluation.id, reason: 'try' }), 201);
    await ok(api('POST', `/promotions/${promotion.id}/reject`, other.token, { reason: 'not yet' }));
    const record = await ok(api('POST', `/projects/${project.id}/versions/${version.id}/quarantine`, tenant.token, { reason: 'regression' }), 201);
    const reeval = await ok(api('POST', `/quarantine/${record.id}/reevaluations`, tenant.token, { reason: 'please' }), 201);
    await ok(api('POST', `/reevaluations/${reeval.id}/reject`, other.token, { reason: 'no' }));

    const events = await domainEvents(database, tenant.orgId);
    expect(typesOf(events)).toEqual([
      'project.created',
      'version.created',
      'promotion.requested',
      'promotion.rejected',
      'version.zone_changed',
      'quarantine.recorded',
      'reevaluation.decided',
    ]);
    expect(events[3]!.payload).toMatchObject({ actor_id: other.userId, from: 'requested', to: 'rejected', reason: 'not yet' });
    expect(events[4]!.payload).toMatchObject({ from: 'v1', to: 'v3' });
    expect(events[5]!.payload).toMatchObject({ source: 'manual', from_zone: 'v1', reason: 'regression' });
    expect(events[6]!.payload).toMatchObject({ to: 'rejected', new_version_id: null });
    expectValidRows(events);
  });
});
