import { createHash } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { quarantineRecords } from '../../drizzle/schema/quarantine.js';
import { mapDbError } from '../../functions/projects/errors.js';
import { withSystem } from '../../functions/shared/db/index.js';
import { HttpProblem } from '../../functions/shared/http/index.js';
import { createTestDatabase } from '../support/db.js';
import { approvedPromotion, ok, versionReadyForPromotion } from '../support/lifecycle.js';
import { expectProblem, projectsApp, uploadInProcess } from '../support/projects.js';
import { createTeam } from '../support/tenants.js';

const { database } = await createTestDatabase();
const { app, api } = projectsApp(database);

const { admin1, admin2, member } = await createTeam(database, { admin1: 'admin', admin2: 'admin', member: 'member' });

/** The rows an illegal move must leave exactly as they were. */
const snapshot = (table: string, id: string) =>
  withSystem(database, async (tx) => JSON.stringify(await tx.execute(sql`select to_jsonb(t) as row from ${sql.raw(table)} t where id = ${id}`)));

async function v2Version() {
  const s = await versionReadyForPromotion(api, member);
  const promotion = await approvedPromotion(api, admin1, admin2, s.version.id, s.evaluation.id);
  await ok(api('POST', `/promotions/${promotion.id}/apply`, admin1.token));
  return { ...s, promotion };
}

describe('illegal transitions answer 409 and change nothing', () => {
  it('analysis task: completed → running, pending → completed', async () => {
    const { project, version } = await v2Version();
    const session = await ok(api('POST', `/projects/${project.id}/analysis-sessions`, member.token, { version_id: version.id }), 201);
    const task = await ok(api('POST', `/analysis-sessions/${session.id}/tasks`, member.token, { type: 'graph' }), 201);
    const pendingBefore = await snapshot('production.analysis_tasks', task.id);
    expectProblem(await api('POST', `/analysis-sessions/${session.id}/tasks/${task.id}/transition`, member.token, { status: 'completed' }), 409, 'illegal-transition');
    expect(await snapshot('production.analysis_tasks', task.id)).toBe(pendingBefore);

    await ok(api('POST', `/analysis-sessions/${session.id}/tasks/${task.id}/transition`, member.token, { status: 'running' }));
    await ok(api('POST', `/analysis-sessions/${session.id}/tasks/${task.id}/transition`, member.token, { status: 'completed', result: { nodes: 3 } }));
    const taskBefore = await snapshot('production.analysis_tasks', task.id);
    const sessionBefore = await snapshot('production.analysis_sessions', session.id);
    const res = await api('POST', `/analysis-sessions/${session.id}/tasks/${task.id}/transition`, member.token, { status: 'running' });
    expectProblem(res, 409, 'illegal-transition');
    expect(res.json).toMatchObject({ from: 'completed', to: 'running' });
    expect(await snapshot('production.analysis_tasks', task.id)).toBe(taskBefore);
    expect(await snapshot('production.analysis_sessions', session.id)).toBe(sessionBefore);
    expectProblem(await api('POST', `/analysis-sessions/${session.id}/tasks`, member.token, { type: 'ai' }), 409);
  });

  it('promotion: applying a rejected one, applying twice, deciding twice', async () => {
    const s = await versionReadyForPromotion(api, member);
    const promotion = await ok(api('POST', '/promotions', admin1.token, { version_id: s.version.id, evaluation_id: s.evaluation.id, reason: 'r' }), 201);
    await ok(api('POST', `/promotions/${promotion.id}/reject`, admin2.token, { reason: 'not yet' }));
    const promotionBefore = await snapshot('experiments_v1.promotions', promotion.id);
    const versionBefore = await snapshot('projects.versions', s.version.id);
    expectProblem(await api('POST', `/promotions/${promotion.id}/apply`, admin1.token), 409, 'illegal-transition');
    expectProblem(await api('POST', `/promotions/${promotion.id}/approve`, admin2.token), 409, 'illegal-transition');
    expect(await snapshot('experiments_v1.promotions', promotion.id)).toBe(promotionBefore);
    expect(await snapshot('projects.versions', s.version.id)).toBe(versionBefore);

    const second = await approvedPromotion(api, admin1, admin2, s.version.id, s.evaluation.id);
    await ok(api('POST', `/promotions/${second.id}/apply`, admin2.token));
    const applied = await snapshot('experiments_v1.promotions', second.id);
    expectProblem(await api('POST', `/promotions/${second.id}/apply`, admin2.token), 409, 'illegal-transition');
    expect(await snapshot('experiments_v1.promotions', second.id)).toBe(applied);
    // Only v1 versions can be promoted.
    expectProblem(await api('POST', '/promotions', admin1.token, { version_id: s.version.id, evaluation_id: s.evaluation.id, reason: 'again' }), 409, 'wrong-zone');
  });

  it('apply refuses a version below its baselines, and the promotion stays approved', async () => {
    const s = await versionReadyForPromotion(api, member, { accuracy: 0.95 });
    const promotion = await approvedPromotion(api, admin1, admin2, s.version.id, s.evaluation.id);
    // A newer evaluation below the baseline is what apply judges.
    await ok(api('POST', `/experiments/${s.experiment.id}/evaluations`, member.token, { metrics: { accuracy: 0.5 }, ai_verdict: 'pass' }), 201);
    const res = await api('POST', `/promotions/${promotion.id}/apply`, admin1.token);
    expectProblem(res, 409, 'baselines-failed');
    expect(res.json.results).toEqual([{ metric: 'accuracy', operator: '>=', threshold: 0.9, value: 0.5, passed: false }]);
    expect((await ok(api('GET', `/promotions/${promotion.id}`, member.token))).status).toBe('approved');
    expect((await ok(api('GET', `/projects/${s.project.id}/versions/${s.version.id}`, member.token))).zone).toBe('v1');
    expect((await ok(api('GET', `/projects/${s.project.id}/history?version_id=${s.version.id}`, member.token))).items).toHaveLength(1);
  });

  it('quarantine records cannot be edited or deleted (409), by the API or even by the owner', async () => {
    const { project, version } = await v2Version();
    const record = await ok(api('POST', `/projects/${project.id}/versions/${version.id}/quarantine`, admin1.token, { reason: 'regression', evidence: { incident: 'INC-1' } }), 201);
    expect(record).toMatchObject({ source: 'manual', evidence: { incident: 'INC-1', from_zone: 'v2' } });
    const before = await snapshot('quarantine.quarantine_records', record.id);
    expectProblem(await api('PATCH', `/quarantine/${record.id}`, admin1.token, { reason: 'rewritten' }), 409, 'read-only');
    expectProblem(await api('DELETE', `/quarantine/${record.id}`, admin1.token), 409, 'read-only');
    expect(await snapshot('quarantine.quarantine_records', record.id)).toBe(before);

    // The immutability trigger itself: SQLSTATE P0001 "append-only", mapped to 409.
    const err: any = await withSystem(database, (tx) => tx.update(quarantineRecords).set({ reason: 'owner edit' }).where(eq(quarantineRecords.id, record.id))).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeDefined();
    expect((err.cause ?? err).code).toBe('P0001');
    expect(String((err.cause ?? err).message)).toContain('append-only');
    const mapped = mapDbError(err);
    expect(mapped).toBeInstanceOf(HttpProblem);
    expect((mapped as HttpProblem).status).toBe(409);
    expect(await snapshot('quarantine.quarantine_records', record.id)).toBe(before);

    // A quarantined version is not re-quarantined, and a rollback cannot erase it.
    expectProblem(await api('POST', `/projects/${project.id}/versions/${version.id}/quarantine`, admin1.token, { reason: 'again' }), 409, 'wrong-zone');
  });

  it('re-evaluation: deciding twice, a second pending request', async () => {
    const { project, version } = await v2Version();
    const record = await ok(api('POST', `/projects/${project.id}/versions/${version.id}/quarantine`, admin1.token, { reason: 'drift' }), 201);
    const request = await ok(api('POST', `/quarantine/${record.id}/reevaluations`, member.token, { reason: 'please' }), 201);
    expectProblem(await api('POST', `/quarantine/${record.id}/reevaluations`, member.token, { reason: 'twice' }), 409);
    expectProblem(await api('POST', `/reevaluations/${request.id}/approve`, member.token), 403);
    await ok(api('POST', `/reevaluations/${request.id}/reject`, admin1.token, { reason: 'no' }));
    const before = await snapshot('quarantine.reevaluation_requests', request.id);
    expectProblem(await api('POST', `/reevaluations/${request.id}/approve`, admin1.token), 409, 'illegal-transition');
    expect(await snapshot('quarantine.reevaluation_requests', request.id)).toBe(before);
    expect((await ok(api('GET', `/projects/${project.id}/versions`, member.token))).items).toHaveLength(1);
  });

  it('experiments, zones and artifacts guard their states', async () => {
    const s = await versionReadyForPromotion(api, member);
    const draft = await ok(api('POST', `/projects/${s.project.id}/experiments`, member.token, { version_id: s.version.id, name: 'draft' }), 201);
    expectProblem(await api('POST', `/experiments/${draft.id}/complete`, member.token), 409, 'illegal-transition');
    expectProblem(await api('POST', `/experiments/${draft.id}/evaluations`, member.token, { metrics: {}, ai_verdict: 'pass' }), 409);
    expectProblem(await api('POST', `/projects/${s.project.id}/analysis-sessions`, member.token, { version_id: s.version.id }), 409, 'wrong-zone');
    expectProblem(await api('POST', `/experiments/${s.experiment.id}/evaluations`, member.token, { metrics: { a: 1 }, ai_verdict: 'pass', human_override: 'fail' }), 422);

    const { project, version } = await v2Version();
    expectProblem(await api('POST', `/projects/${project.id}/experiments`, member.token, { version_id: version.id, name: 'late' }), 409, 'wrong-zone');
    const session = await ok(api('POST', `/projects/${project.id}/analysis-sessions`, member.token, { version_id: version.id }), 201);
    const sha256 = createHash('sha256').update('expected').digest('hex');
    const artifact = await ok(api('POST', `/analysis-sessions/${session.id}/artifacts`, member.token, { name: 'a', sha256, size_bytes: 8 }), 201);
    expectProblem(await api('GET', `/analysis-sessions/${session.id}/artifacts/${artifact.id}/content`, member.token), 409, 'artifact-not-available');
    expectProblem(await api('POST', `/analysis-sessions/${session.id}/artifacts/${artifact.id}/complete`, member.token), 409, 'upload-missing');
    expect(await uploadInProcess(app, artifact.upload, 'tampered')).toBe(200);
    expectProblem(await api('POST', `/analysis-sessions/${session.id}/artifacts/${artifact.id}/complete`, member.token), 422, 'checksum-mismatch');
    expect((await ok(api('GET', `/analysis-sessions/${session.id}/artifacts`, member.token))).items[0]).toMatchObject({ status: 'pending', verified_at: null });
  });

  it('a rollback that would erase a quarantined version is refused whole', async () => {
    const project = await ok(api('POST', '/projects', member.token, { name: 'rb' }), 201);
    const cp = await ok(api('POST', `/projects/${project.id}/checkpoints`, member.token, { reason: 'empty' }), 201);
    const v = await ok(api('POST', `/projects/${project.id}/versions`, member.token, { config: { q: 1 } }), 201);
    await ok(api('POST', `/projects/${project.id}/versions/${v.id}/quarantine`, admin1.token, { reason: 'bad' }), 201);
    const before = await snapshot('projects.projects', project.id);
    expectProblem(await api('POST', `/projects/${project.id}/checkpoints/${cp.id}/rollback`, admin1.token), 409);
    expect(await snapshot('projects.projects', project.id)).toBe(before);
    expect((await ok(api('GET', `/projects/${project.id}/checkpoints`, member.token))).items).toHaveLength(1);
    expect((await ok(api('GET', `/projects/${project.id}/versions/${v.id}`, member.token))).zone).toBe('v3');
  });
});
