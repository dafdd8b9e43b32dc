import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/db.js';
import { ok } from '../support/lifecycle.js';
import { expectProblem, projectsApp, uploadInProcess } from '../support/projects.js';
import { createTeam } from '../support/tenants.js';

const { database } = await createTestDatabase();
const { app, api } = projectsApp(database);

const { admin1, admin2, member } = await createTeam(database, { admin1: 'admin', admin2: 'admin', member: 'member' });

describe('the whole lifecycle through the HTTP API', () => {
  it('v1 experiment → promotion → v2 analysis → blacklist → v3 quarantine → re-evaluation → new v1', async () => {
    const config = { model: 'lattice-7b', temperature: 0.2, tools: ['search'] };
    const project = await ok(api('POST', '/projects', member.token, { name: 'Journey' }), 201);
    const version = await ok(api('POST', `/projects/${project.id}/versions`, member.token, { config, notes: 'candidate' }), 201);
    expect(version).toMatchObject({ version_number: 1, zone: 'v1' });
    await ok(api('POST', `/projects/${project.id}/baselines`, member.token, { metric: 'accuracy', operator: '>=', threshold: 0.9 }), 201);

    // v1: experiment and evaluation; the AI says fail, a human overrides to pass, both are kept.
    const experiment = await ok(api('POST', `/projects/${project.id}/experiments`, member.token, { version_id: version.id, name: 'accuracy run', hypothesis: 'lower temperature helps' }), 201);
    expect(experiment.status).toBe('draft');
    expect((await ok(api('POST', `/experiments/${experiment.id}/start`, member.token))).status).toBe('running');
    const aiOnly = await ok(api('POST', `/experiments/${experiment.id}/evaluations`, member.token, { metrics: { accuracy: 0.93, latency_ms: 120 }, ai_verdict: 'fail', ai_rationale: 'latency looks high' }), 201);
    expect(aiOnly).toMatchObject({ ai_verdict: 'fail', human_override: null, verdict: 'fail' });
    expectProblem(await api('POST', '/promotions', admin1.token, { version_id: version.id, evaluation_id: aiOnly.id, reason: 'ship it' }), 409, 'illegal-transition');
    const overridden = await ok(api('POST', `/evaluations/${aiOnly.id}/override`, member.token, { verdict: 'pass', reason: 'latency is within the SLO' }));
    expect(overridden).toMatchObject({ ai_verdict: 'fail', human_override: 'pass', human_override_reason: 'latency is within the SLO', reviewer_id: member.userId, verdict: 'pass' });
    await ok(api('POST', `/experiments/${experiment.id}/complete`, member.token));

    // Promotion: requested → self-approval refused → approved by another admin → applied.
    const promotion = await ok(api('POST', '/promotions', admin1.token, { version_id: version.id, evaluation_id: aiOnly.id, reason: 'ship it' }), 201);
    expect(promotion).toMatchObject({ status: 'requested', requested_by: admin1.userId });
    expectProblem(await api('POST', `/promotions/${promotion.id}/approve`, admin1.token), 403, 'self-approval');
    expectProblem(await api('POST', `/promotions/${promotion.id}/approve`, member.token), 403);
    const approved = await ok(api('POST', `/promotions/${promotion.id}/approve`, admin2.token, { reason: 'numbers are good' }));
    expect(approved).toMatchObject({ status: 'approved', decided_by: admin2.userId });
    const applied = await ok(api('POST', `/promotions/${promotion.id}/apply`, admin1.token));
    expect(applied).toMatchObject({ status: 'applied', applied_by: admin1.userId, promoted_version: { id: version.id, zone: 'v2' } });

    // v2: an analysis session with tasks, an artifact verified by upload, a review.
    const session = await ok(api('POST', `/projects/${project.id}/analysis-sessions`, member.token, { version_id: version.id }), 201);
    expect(session.status).toBe('pending');
    const staticTask = await ok(api('POST', `/analysis-sessions/${session.id}/tasks`, member.token, { type: 'static' }), 201);
    const aiTask = await ok(api('POST', `/analysis-sessions/${session.id}/tasks`, member.token, { type: 'ai' }), 201);
    const running = await ok(api('POST', `/analysis-sessions/${session.id}/tasks/${staticTask.id}/transition`, member.token, { status: 'running' }));
    expect(running).toMatchObject({ status: 'running', task: { status: 'running', attempts: 1 } });
    await ok(api('POST', `/analysis-sessions/${session.id}/tasks/${staticTask.id}/transition`, member.token, { status: 'completed', result: { issues: 0 } }));
    await ok(api('POST', `/analysis-sessions/${session.id}/tasks/${aiTask.id}/transition`, member.token, { status: 'running' }));
    const done = await ok(api('POST', `/analysis-sessions/${session.id}/tasks/${aiTask.id}/transition`, member.token, { status: 'completed', result: { summary: 'fine' } }));
    expect(done).toMatchObject({ status: 'completed', finished_at: expect.any(String), task: { status: 'completed', result: { summary: 'fine' } } });

    const content = Buffer.from('{"findings":[]}\n');
    const sha256 = createHash('sha256').update(content).digest('hex');
    const artifact = await ok(api('POST', `/analysis-sessions/${session.id}/artifacts`, member.token, { name: 'report.json', sha256, size_bytes: content.length, content_type: 'application/json' }), 201);
    expect(artifact).toMatchObject({ status: 'pending', verified_at: null, expires_at: expect.any(String) });
    expect(await uploadInProcess(app, artifact.upload, content)).toBe(200);
    const completed = await ok(api('POST', `/analysis-sessions/${session.id}/artifacts/${artifact.id}/complete`, member.token));
    expect(completed).toMatchObject({ status: 'available', verified_at: expect.any(String) });
    await ok(api('POST', `/analysis-sessions/${session.id}/reviews`, member.token, { score: 87, findings: [{ rule: 'naming', severity: 'low' }] }), 201);
    const detail = await ok(api('GET', `/analysis-sessions/${session.id}`, member.token));
    expect(detail.tasks.map((t: any) => t.status)).toEqual(['completed', 'completed']);

    // Blacklisting the hash degrades the v2 version to quarantine, with evidence.
    const banned = await ok(api('POST', '/blacklist', admin2.token, { config_hash: version.config_hash, reason: 'prompt injection found' }), 201);
    expect(banned.quarantined).toHaveLength(1);
    const record = banned.quarantined[0];
    expect(record).toMatchObject({ version_id: version.id, config_hash: version.config_hash, config, source: 'blacklist', evidence: { blacklist_id: banned.id, from_zone: 'v2' } });
    expect((await ok(api('GET', `/projects/${project.id}/versions/${version.id}`, member.token))).zone).toBe('v3');
    expect(await ok(api('GET', '/quarantine/stats', member.token))).toMatchObject({ total_records: 1, pending_requests: 0 });

    // Re-evaluation: requested, approved by an admin → a new v1 version from the quarantined config.
    const reeval = await ok(api('POST', `/quarantine/${record.id}/reevaluations`, member.token, { reason: 'injection was fixed upstream' }), 201);
    expect(reeval.status).toBe('pending');
    expect((await ok(api('GET', '/quarantine/stats', member.token))).pending_requests).toBe(1);
    const decided = await ok(api('POST', `/reevaluations/${reeval.id}/approve`, admin1.token, { reason: 'verified' }));
    expect(decided).toMatchObject({ status: 'approved', decided_by: admin1.userId, new_version: { version_number: 2, zone: 'v1', config, config_hash: version.config_hash } });
    expect(decided.new_version_id).toBe(decided.new_version.id);
    expect(await ok(api('GET', '/quarantine/stats', member.token))).toMatchObject({ total_records: 1, pending_requests: 0, approved_requests: 1 });

    // Every zone change is in version_history with its actor…
    const history = (await ok(api('GET', `/projects/${project.id}/history`, member.token))).items.reverse();
    expect(history.map((h: any) => [h.version_id, h.from_zone, h.to_zone, h.actor_id])).toEqual([
      [version.id, null, 'v1', member.userId],
      [version.id, 'v1', 'v2', admin1.userId],
      [version.id, 'v2', 'v3', admin2.userId],
      [decided.new_version.id, null, 'v1', admin1.userId],
    ]);
    expect(history[1].reason).toContain(promotion.id);
    expect(history[2].reason).toContain('prompt injection found');

    // …and every step in the audit log, with its actor.
    const audit: any[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await ok(api('GET', `/audit?limit=100${cursor ? `&cursor=${cursor}` : ''}`, admin1.token));
      audit.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    const has = (table: string, action: string, actor: string, rowId?: string) =>
      audit.some((a) => a.table_name === table && a.action === action && a.actor_id === actor && (!rowId || a.row_id === rowId));
    expect(has('projects', 'insert', member.userId, project.id)).toBe(true);
    expect(has('versions', 'insert', member.userId, version.id)).toBe(true);
    expect(has('experiments', 'insert', member.userId, experiment.id)).toBe(true);
    expect(has('evaluations', 'update', member.userId, aiOnly.id)).toBe(true);
    expect(has('promotions', 'insert', admin1.userId, promotion.id)).toBe(true);
    expect(has('promotions', 'update', admin2.userId, promotion.id)).toBe(true);
    expect(has('promotions', 'update', admin1.userId, promotion.id)).toBe(true);
    expect(has('versions', 'update', admin1.userId, version.id)).toBe(true);
    expect(has('analysis_sessions', 'update', member.userId, session.id)).toBe(true);
    expect(has('artifacts', 'update', member.userId, artifact.id)).toBe(true);
    expect(has('code_review_results', 'insert', member.userId)).toBe(true);
    expect(has('blacklist', 'insert', admin2.userId, banned.id)).toBe(true);
    expect(has('versions', 'update', admin2.userId, version.id)).toBe(true);
    expect(has('quarantine_records', 'insert', admin2.userId, record.id)).toBe(true);
    expect(has('reevaluation_requests', 'insert', member.userId, reeval.id)).toBe(true);
    expect(has('reevaluation_requests', 'update', admin1.userId, reeval.id)).toBe(true);
    expect(has('versions', 'insert', admin1.userId, decided.new_version.id)).toBe(true);
    expect(has('version_history', 'insert', admin2.userId)).toBe(true);

    // The new v1 version carries a blacklisted hash: it can be experimented on, never promoted.
    const retry = await ok(api('POST', `/projects/${project.id}/experiments`, member.token, { version_id: decided.new_version.id, name: 'retry' }), 201);
    await ok(api('POST', `/experiments/${retry.id}/start`, member.token));
    const retryEval = await ok(api('POST', `/experiments/${retry.id}/evaluations`, member.token, { metrics: { accuracy: 0.99 }, ai_verdict: 'pass' }), 201);
    const again = await ok(api('POST', '/promotions', admin2.token, { version_id: decided.new_version.id, evaluation_id: retryEval.id, reason: 'fixed' }), 201);
    await ok(api('POST', `/promotions/${again.id}/approve`, admin1.token));
    expectProblem(await api('POST', `/promotions/${again.id}/apply`, admin1.token), 409, 'config-blacklisted');
    expect((await ok(api('GET', `/promotions/${again.id}`, member.token))).status).toBe('approved');
  });

  it('compares two versions with deltas computed by the service', async () => {
    const project = await ok(api('POST', '/projects', member.token, { name: 'Compare' }), 201);
    const ids: string[] = [];
    for (const [i, metrics] of [{ accuracy: 0.8, latency_ms: 200 }, { accuracy: 0.9, latency_ms: 150, cost: 3 }].entries()) {
      const v = await ok(api('POST', `/projects/${project.id}/versions`, member.token, { config: { i } }), 201);
      const e = await ok(api('POST', `/projects/${project.id}/experiments`, member.token, { version_id: v.id, name: `e${i}` }), 201);
      await ok(api('POST', `/experiments/${e.id}/start`, member.token));
      await ok(api('POST', `/experiments/${e.id}/evaluations`, member.token, { metrics, ai_verdict: 'pass' }), 201);
      ids.push(v.id);
    }
    const report = await ok(api('POST', '/comparisons', member.token, { base_version_id: ids[0], candidate_version_id: ids[1] }), 201);
    expect(report.deltas.accuracy.delta).toBeCloseTo(0.1);
    expect(report.deltas.latency_ms).toEqual({ base: 200, candidate: 150, delta: -50, relative: -0.25 });
    expect(report.deltas.cost).toEqual({ base: null, candidate: 3, delta: null, relative: null });
    expect(report.summary).toMatchObject({ metrics_compared: 2, base: { version_number: 1 }, candidate: { version_number: 2 } });
    expect((await ok(api('GET', `/projects/${project.id}/comparisons`, member.token))).items).toHaveLength(1);
    expectProblem(await api('POST', '/comparisons', member.token, { base_version_id: ids[0], candidate_version_id: ids[0] }), 422);
  });
});
