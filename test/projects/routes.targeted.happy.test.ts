import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/db.js';
import { approvedPromotion, ok, versionReadyForPromotion } from '../support/lifecycle.js';
import { expectProblem, projectsApp } from '../support/projects.js';
import { createTeam, createTenant } from '../support/tenants.js';

/**
 * One targeted call per route that no other test called through HTTP (issue 19 §6): what each answers,
 * and that another organization gets 404 where it reads an object by id.
 */
const { database } = await createTestDatabase();
const { api } = projectsApp(database);
const { admin1, admin2, member } = await createTeam(database, { admin1: 'admin', admin2: 'admin', member: 'member' });
const stranger = await createTenant(database, { role: 'admin' });

describe('experiments and evaluations', () => {
  it('GET /projects/{id}/experiments lists with filters; GET /experiments/{id}/evaluations and GET /evaluations/{id} read them', async () => {
    const { project, version, experiment, evaluation } = await versionReadyForPromotion(api, member);
    const draft = await ok(api('POST', `/projects/${project.id}/experiments`, member.token, { version_id: version.id, name: 'second' }), 201);
    const all = await ok(api('GET', `/projects/${project.id}/experiments`, member.token));
    expect(all.items.map((e: any) => e.id).sort()).toEqual([experiment.id, draft.id].sort());
    const running = await ok(api('GET', `/projects/${project.id}/experiments?status=running`, member.token));
    expect(running.items.map((e: any) => e.id)).toEqual([experiment.id]);
    const paged = await ok(api('GET', `/projects/${project.id}/experiments?limit=1`, member.token));
    expect(paged.items).toHaveLength(1);
    expect(paged.next_cursor).toEqual(expect.any(String));

    const evaluations = await ok(api('GET', `/experiments/${experiment.id}/evaluations`, member.token));
    expect(evaluations.items.map((e: any) => e.id)).toEqual([evaluation.id]);
    const one = await ok(api('GET', `/evaluations/${evaluation.id}`, member.token));
    expect(one).toMatchObject({ id: evaluation.id, experiment_id: experiment.id, metrics: { accuracy: 0.95 }, ai_verdict: 'pass' });
    expectProblem(await api('GET', `/evaluations/${evaluation.id}`, stranger.token), 404);
    expectProblem(await api('GET', `/experiments/${experiment.id}/evaluations`, stranger.token), 404);
  });

  it('PATCH /experiments/{id} needs If-Match, changes a draft, and refuses a config change once started; DELETE removes it', async () => {
    const { project, version, experiment } = await versionReadyForPromotion(api, member);
    const draft = await ok(api('POST', `/projects/${project.id}/experiments`, member.token, { version_id: version.id, name: 'draft' }), 201);
    const got = await api('GET', `/experiments/${draft.id}`, member.token);
    const etag = got.headers.get('etag')!;
    expect(etag).toMatch(/^"\d+"$/);
    expectProblem(await api('PATCH', `/experiments/${draft.id}`, member.token, { name: 'renamed' }), 428);
    expectProblem(await api('PATCH', `/experiments/${draft.id}`, member.token, { name: 'renamed' }, { 'if-match': '"99"' }), 412);
    const patched = await api('PATCH', `/experiments/${draft.id}`, member.token, { name: 'renamed', config: { temperature: 0.2 } }, { 'if-match': etag });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.json).toMatchObject({ id: draft.id, name: 'renamed', config: { temperature: 0.2 } });
    expect(patched.headers.get('etag')).not.toBe(etag);

    const started = await api('GET', `/experiments/${experiment.id}`, member.token);
    expectProblem(await api('PATCH', `/experiments/${experiment.id}`, member.token, { config: { x: 1 } }, { 'if-match': started.headers.get('etag')! }), 409, 'illegal-transition');

    expectProblem(await api('DELETE', `/experiments/${draft.id}`, member.token, undefined, { 'if-match': patched.headers.get('etag')! }), 403);
    expectProblem(await api('DELETE', `/experiments/${draft.id}`, admin1.token, undefined, { 'if-match': etag }), 412);
    const del = await api('DELETE', `/experiments/${draft.id}`, admin1.token, undefined, { 'if-match': patched.headers.get('etag')! });
    expect(del.status, del.text).toBe(204);
    expectProblem(await api('GET', `/experiments/${draft.id}`, member.token), 404);
    expect((await ok(api('GET', `/projects/${project.id}/experiments`, member.token))).items.map((e: any) => e.id)).not.toContain(draft.id);
  });
});

describe('promotion side', () => {
  it('GET /projects/{id}/analysis-sessions and GET /analysis-sessions/{id}/reviews', async () => {
    const { project, version, experiment, evaluation } = await versionReadyForPromotion(api, member);
    await ok(api('POST', `/experiments/${experiment.id}/complete`, member.token));
    const promotion = await approvedPromotion(api, admin1, admin2, version.id, evaluation.id);
    await ok(api('POST', `/promotions/${promotion.id}/apply`, admin1.token));
    const session = await ok(api('POST', `/projects/${project.id}/analysis-sessions`, member.token, { version_id: version.id }), 201);
    const sessions = await ok(api('GET', `/projects/${project.id}/analysis-sessions`, member.token));
    expect(sessions.items.map((s: any) => s.id)).toEqual([session.id]);
    expect((await ok(api('GET', `/projects/${project.id}/analysis-sessions?status=completed`, member.token))).items).toEqual([]);
    expectProblem(await api('GET', `/projects/${project.id}/analysis-sessions`, stranger.token), 404);

    expect((await ok(api('GET', `/analysis-sessions/${session.id}/reviews`, member.token))).items).toEqual([]);
    const review = await ok(api('POST', `/analysis-sessions/${session.id}/reviews`, member.token, { score: 70, findings: [{ rule: 'naming', severity: 'low' }] }), 201);
    const reviews = await ok(api('GET', `/analysis-sessions/${session.id}/reviews`, member.token));
    expect(reviews.items).toEqual([expect.objectContaining({ id: review.id, score: 70 })]);
    expectProblem(await api('GET', `/analysis-sessions/${session.id}/reviews`, stranger.token), 404);
  });

  it('GET /comparisons/{id} reads the stored report; another org gets 404', async () => {
    const project = await ok(api('POST', '/projects', member.token, { name: 'compare-targeted' }), 201);
    const ids: string[] = [];
    for (const accuracy of [0.8, 0.9]) {
      const v = await ok(api('POST', `/projects/${project.id}/versions`, member.token, { config: { accuracy } }), 201);
      const e = await ok(api('POST', `/projects/${project.id}/experiments`, member.token, { version_id: v.id, name: `e${accuracy}` }), 201);
      await ok(api('POST', `/experiments/${e.id}/start`, member.token));
      await ok(api('POST', `/experiments/${e.id}/evaluations`, member.token, { metrics: { accuracy }, ai_verdict: 'pass' }), 201);
      ids.push(v.id);
    }
    const report = await ok(api('POST', '/comparisons', member.token, { base_version_id: ids[0], candidate_version_id: ids[1] }), 201);
    const read = await ok(api('GET', `/comparisons/${report.id}`, member.token));
    expect(read).toEqual(report);
    expectProblem(await api('GET', `/comparisons/${report.id}`, stranger.token), 404);
  });

  it('the requester of a re-evaluation cannot approve it (four eyes, as for promotions); another admin can', async () => {
    const { project, version, experiment, evaluation } = await versionReadyForPromotion(api, member);
    await ok(api('POST', `/experiments/${experiment.id}/complete`, member.token));
    await ok(api('POST', `/promotions/${(await approvedPromotion(api, admin1, admin2, version.id, evaluation.id)).id}/apply`, admin1.token));
    await ok(api('POST', '/blacklist', admin1.token, { config_hash: version.config_hash, reason: 'four eyes test' }), 201);
    const record = (await ok(api('GET', `/quarantine?project_id=${project.id}`, member.token))).items[0];
    const request = await ok(api('POST', `/quarantine/${record.id}/reevaluations`, admin1.token, { reason: 'fixed, trust me' }), 201);
    expectProblem(await api('POST', `/reevaluations/${request.id}/approve`, admin1.token, { reason: 'self' }), 403, 'self-approval');
    expect((await ok(api('GET', `/quarantine/${record.id}/reevaluations`, member.token))).items[0].status).toBe('pending');
    expect(await ok(api('POST', `/reevaluations/${request.id}/approve`, admin2.token, { reason: 'verified' }))).toMatchObject({ status: 'approved', decided_by: admin2.userId });
  });

  it('DELETE /blacklist/{id} removes the entry (admins only) and GET /quarantine/{id}/reevaluations lists requests', async () => {
    const { project, version, experiment, evaluation } = await versionReadyForPromotion(api, member);
    await ok(api('POST', `/experiments/${experiment.id}/complete`, member.token));
    await ok(api('POST', `/promotions/${(await approvedPromotion(api, admin1, admin2, version.id, evaluation.id)).id}/apply`, admin1.token));
    const banned = await ok(api('POST', '/blacklist', admin1.token, { config_hash: version.config_hash, reason: 'targeted test' }), 201);
    const entryId = banned.id ?? banned.entry?.id;
    expect(entryId).toEqual(expect.any(String));
    const record = (await ok(api('GET', `/quarantine?project_id=${project.id}`, member.token))).items[0];
    expect(record).toBeDefined();
    expect((await ok(api('GET', `/quarantine/${record.id}/reevaluations`, member.token))).items).toEqual([]);
    const request = await ok(api('POST', `/quarantine/${record.id}/reevaluations`, member.token, { reason: 'fixed' }), 201);
    expect((await ok(api('GET', `/quarantine/${record.id}/reevaluations`, member.token))).items).toEqual([expect.objectContaining({ id: request.id, status: 'pending' })]);
    expectProblem(await api('GET', `/quarantine/${record.id}/reevaluations`, stranger.token), 404);

    expectProblem(await api('DELETE', `/blacklist/${entryId}`, member.token), 403);
    expectProblem(await api('DELETE', `/blacklist/${entryId}`, stranger.token), 404);
    expect((await api('DELETE', `/blacklist/${entryId}`, admin1.token)).status).toBe(204);
    expect((await ok(api('GET', '/blacklist', admin1.token))).items.map((b: any) => b.id)).not.toContain(entryId);
    expectProblem(await api('DELETE', `/blacklist/${entryId}`, admin1.token), 404);
    // Removing the entry does not release what it quarantined.
    expect((await ok(api('GET', `/projects/${project.id}/versions/${version.id}`, member.token))).zone).toBe('v3');
  });
});

describe('policies and projects', () => {
  it('GET /policies lists the organization\'s policies only', async () => {
    const rego = 'package lattice.targeted\n\ndefault allow := true\n';
    const mine = await ok(api('POST', '/policies', admin1.token, { name: `targeted-${createHash('sha1').update(String(Math.random())).digest('hex').slice(0, 6)}`, rego }), 201);
    const listed = await ok(api('GET', '/policies', member.token));
    expect(listed.items.map((p: any) => p.id)).toContain(mine.id);
    expect((await ok(api('GET', '/policies', stranger.token))).items.map((p: any) => p.id)).not.toContain(mine.id);
  });

  it('PATCH /projects/{id} to a slug another live project uses answers 409 slug-taken', async () => {
    await ok(api('POST', '/projects', member.token, { name: 'first', slug: 'patch-slug-one' }), 201);
    const second = await api('POST', '/projects', member.token, { name: 'second', slug: 'patch-slug-two' });
    expect(second.status).toBe(201);
    expectProblem(await api('PATCH', `/projects/${second.json.id}`, member.token, { slug: 'patch-slug-one' }, { 'if-match': second.headers.get('etag')! }), 409, 'slug-taken');
  });
});
