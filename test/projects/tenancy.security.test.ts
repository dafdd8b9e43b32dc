import { eq, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../drizzle/schema/audits.js';
import { projects, versions } from '../../drizzle/schema/projects.js';
import { withTenant } from '../../functions/shared/db/index.js';
import { createTestDatabase } from '../support/db.js';
import { expectAllNotFound, type RouteCase } from '../support/idor.js';
import { approvedPromotion, ok, versionReadyForPromotion } from '../support/lifecycle.js';
import { expectProblem, projectsApp } from '../support/projects.js';
import { createTenant, type TestTenant } from '../support/tenants.js';

const { database } = await createTestDatabase();
const { api } = projectsApp(database);

let a: TestTenant;
let b: TestTenant;
/** Org B's objects, one of each kind the project routes address by id. */
const ids: Record<string, string> = {};

beforeAll(async () => {
  a = await createTenant(database, { role: 'owner' });
  b = await createTenant(database, { role: 'admin' });
  await api('POST', '/projects', a.token, { name: 'A project' });
  ids.project = (await api('POST', '/projects', b.token, { name: 'B project' })).json.id;
  ids.deletedProject = (await api('POST', '/projects', b.token, { name: 'B deleted' })).json.id;
  await api('DELETE', `/projects/${ids.deletedProject}`, b.token, undefined, { 'if-match': '"1"' });
  ids.version = (await api('POST', `/projects/${ids.project}/versions`, b.token, { config: { b: true } })).json.id;
  ids.baseline = (await api('POST', `/projects/${ids.project}/baselines`, b.token, { metric: 'm', operator: '>', threshold: 1 })).json.id;
  ids.error = (await api('POST', `/projects/${ids.project}/errors`, b.token, { code: 'E', message: 'm', severity: 'error' })).json.id;
  ids.checkpoint = (await api('POST', `/projects/${ids.project}/checkpoints`, b.token, { reason: 'r' })).json.id;
  ids.policy = (await api('POST', '/policies', b.token, { name: 'B policy', rego: 'package b\n' })).json.id;
  await api('POST', `/projects/${ids.project}/policies`, b.token, { policy_id: ids.policy });

  // Issue 7 objects in org B: a promoted (v2) version with a session, task, artifact and review; an
  // open promotion; a quarantined version with a pending re-evaluation; a comparison; a blacklist entry.
  const b2 = await createTenant(database, { role: 'admin', orgId: b.orgId });
  const promoted = await versionReadyForPromotion(api, b);
  const applied = await approvedPromotion(api, b, b2, promoted.version.id, promoted.evaluation.id);
  await ok(api('POST', `/promotions/${applied.id}/apply`, b2.token));
  ids.lcProject = promoted.project.id;
  ids.v2 = promoted.version.id;
  ids.experiment = promoted.experiment.id;
  ids.evaluation = promoted.evaluation.id;
  ids.v2Hash = promoted.version.config_hash;
  const open = await versionReadyForPromotion(api, b);
  ids.openVersion = open.version.id;
  ids.openEvaluation = open.evaluation.id;
  ids.promotion = (await ok(api('POST', '/promotions', b.token, { version_id: open.version.id, evaluation_id: open.evaluation.id, reason: 'b' }), 201)).id;
  ids.session = (await ok(api('POST', `/projects/${ids.lcProject}/analysis-sessions`, b.token, { version_id: ids.v2 }), 201)).id;
  ids.task = (await ok(api('POST', `/analysis-sessions/${ids.session}/tasks`, b.token, { type: 'static' }), 201)).id;
  ids.artifact = (await ok(api('POST', `/analysis-sessions/${ids.session}/artifacts`, b.token, { name: 'a', sha256: 'a'.repeat(64), size_bytes: 1 }), 201)).id;
  await ok(api('POST', `/analysis-sessions/${ids.session}/reviews`, b.token, { score: 50, findings: [] }), 201);
  const doomed = await ok(api('POST', `/projects/${ids.lcProject}/versions`, b.token, { config: { doomed: true } }), 201);
  ids.doomedVersion = doomed.id;
  const doomedExp = await ok(api('POST', `/projects/${ids.lcProject}/experiments`, b.token, { version_id: doomed.id, name: 'd' }), 201);
  await ok(api('POST', `/experiments/${doomedExp.id}/start`, b.token));
  await ok(api('POST', `/experiments/${doomedExp.id}/evaluations`, b.token, { metrics: { accuracy: 0.5 }, ai_verdict: 'fail' }), 201);
  ids.comparison = (await ok(api('POST', '/comparisons', b.token, { base_version_id: ids.v2, candidate_version_id: doomed.id }), 201)).id;
  ids.record = (await ok(api('POST', `/projects/${ids.lcProject}/versions/${doomed.id}/quarantine`, b.token, { reason: 'b' }), 201)).id;
  ids.reevaluation = (await ok(api('POST', `/quarantine/${ids.record}/reevaluations`, b.token, { reason: 'b' }), 201)).id;
  ids.blacklist = (await ok(api('POST', '/blacklist', b.token, { config_hash: 'b'.repeat(64), reason: 'b' }), 201)).id;
});

/** Every lifecycle route (issue 7), addressed with org B's ids. */
function lifecycleRouteCases(x: Record<string, string>): RouteCase[] {
  const p = `/projects/${x.lcProject}`;
  const ifMatch = { 'if-match': '"1"' };
  const s = `/analysis-sessions/${x.session}`;
  return [
    { method: 'POST', path: `${p}/experiments`, body: { version_id: x.openVersion, name: 'x' } },
    { method: 'GET', path: `${p}/experiments` },
    { method: 'GET', path: `/experiments/${x.experiment}` },
    { method: 'PATCH', path: `/experiments/${x.experiment}`, body: { name: 'x' }, headers: ifMatch },
    { method: 'DELETE', path: `/experiments/${x.experiment}`, headers: ifMatch },
    { method: 'POST', path: `/experiments/${x.experiment}/start` },
    { method: 'POST', path: `/experiments/${x.experiment}/complete` },
    { method: 'POST', path: `/experiments/${x.experiment}/abort` },
    { method: 'POST', path: `/experiments/${x.experiment}/evaluations`, body: { metrics: { a: 1 }, ai_verdict: 'pass' } },
    { method: 'GET', path: `/experiments/${x.experiment}/evaluations` },
    { method: 'GET', path: `/evaluations/${x.evaluation}` },
    { method: 'POST', path: `/evaluations/${x.evaluation}/override`, body: { verdict: 'fail', reason: 'x' } },
    { method: 'POST', path: '/promotions', body: { version_id: x.openVersion, evaluation_id: x.openEvaluation, reason: 'x' } },
    { method: 'GET', path: `/promotions/${x.promotion}` },
    { method: 'POST', path: `/promotions/${x.promotion}/approve` },
    { method: 'POST', path: `/promotions/${x.promotion}/reject` },
    { method: 'POST', path: `/promotions/${x.promotion}/apply` },
    { method: 'POST', path: '/comparisons', body: { base_version_id: x.v2, candidate_version_id: x.doomedVersion } },
    { method: 'GET', path: `/comparisons/${x.comparison}` },
    { method: 'GET', path: `${p}/comparisons` },
    { method: 'DELETE', path: `/blacklist/${x.blacklist}` },
    { method: 'POST', path: `${p}/analysis-sessions`, body: { version_id: x.v2 } },
    { method: 'GET', path: `${p}/analysis-sessions` },
    { method: 'GET', path: s },
    { method: 'POST', path: `${s}/tasks`, body: { type: 'ai' } },
    { method: 'POST', path: `${s}/tasks/${x.task}/transition`, body: { status: 'running' } },
    { method: 'POST', path: `${s}/artifacts`, body: { name: 'a', sha256: 'c'.repeat(64), size_bytes: 1 } },
    { method: 'GET', path: `${s}/artifacts` },
    { method: 'POST', path: `${s}/artifacts/${x.artifact}/upload-url` },
    { method: 'POST', path: `${s}/artifacts/${x.artifact}/complete` },
    { method: 'GET', path: `${s}/artifacts/${x.artifact}/content` },
    { method: 'POST', path: `${s}/reviews`, body: { score: 1, findings: [] } },
    { method: 'GET', path: `${s}/reviews` },
    { method: 'POST', path: `${p}/versions/${x.v2}/quarantine`, body: { reason: 'x' } },
    { method: 'GET', path: `/quarantine/${x.record}` },
    { method: 'PATCH', path: `/quarantine/${x.record}`, body: { reason: 'x' } },
    { method: 'DELETE', path: `/quarantine/${x.record}` },
    { method: 'POST', path: `/quarantine/${x.record}/reevaluations`, body: { reason: 'x' } },
    { method: 'GET', path: `/quarantine/${x.record}/reevaluations` },
    { method: 'GET', path: `/reevaluations/${x.reevaluation}` },
    { method: 'POST', path: `/reevaluations/${x.reevaluation}/approve` },
    { method: 'POST', path: `/reevaluations/${x.reevaluation}/reject` },
  ];
}

/** Every project-scoped route, addressed with org B's ids (issue 6). */
function projectRouteCases(x: Record<string, string>, ownPolicyId?: string): RouteCase[] {
  const p = `/projects/${x.project}`;
  const ifMatch = { 'if-match': '"1"' };
  return [
    { method: 'GET', path: p },
    { method: 'GET', path: `${p}?include_deleted=true` },
    { method: 'GET', path: `/projects/${x.deletedProject}?include_deleted=true` },
    { method: 'PATCH', path: p, body: { name: 'pwned' }, headers: ifMatch },
    { method: 'DELETE', path: p, headers: ifMatch },
    { method: 'POST', path: `/projects/${x.deletedProject}/restore` },
    { method: 'POST', path: `${p}/validations`, body: { kind: 'schema', result: 'failed' } },
    { method: 'GET', path: `${p}/validations` },
    { method: 'POST', path: `${p}/errors`, body: { code: 'X', message: 'x', severity: 'error' } },
    { method: 'GET', path: `${p}/errors` },
    { method: 'POST', path: `${p}/errors/${x.error}/resolve` },
    { method: 'POST', path: `${p}/checkpoints`, body: { reason: 'x' } },
    { method: 'GET', path: `${p}/checkpoints` },
    { method: 'GET', path: `${p}/checkpoints/${x.checkpoint}` },
    { method: 'POST', path: `${p}/checkpoints/${x.checkpoint}/rollback`, body: { reason: 'x' } },
    { method: 'POST', path: `${p}/versions`, body: { config: {} } },
    { method: 'GET', path: `${p}/versions` },
    { method: 'GET', path: `${p}/versions/${x.version}` },
    { method: 'PATCH', path: `${p}/versions/${x.version}`, body: { notes: 'x' }, headers: ifMatch },
    { method: 'GET', path: `${p}/history` },
    { method: 'POST', path: `${p}/baselines`, body: { metric: 'x', operator: '<', threshold: 1 } },
    { method: 'GET', path: `${p}/baselines` },
    { method: 'PATCH', path: `${p}/baselines/${x.baseline}`, body: { threshold: 2 }, headers: ifMatch },
    { method: 'DELETE', path: `${p}/baselines/${x.baseline}`, headers: ifMatch },
    { method: 'POST', path: `${p}/baselines/check`, body: { metrics: { m: 2 } } },
    { method: 'GET', path: `${p}/policies` },
    { method: 'POST', path: `${p}/policies`, body: { policy_id: ownPolicyId ?? x.policy } },
    { method: 'DELETE', path: `${p}/policies/${x.policy}` },
    { method: 'GET', path: `/policies/${x.policy}` },
    { method: 'PATCH', path: `/policies/${x.policy}`, body: { name: 'pwned' }, headers: ifMatch },
    { method: 'DELETE', path: `/policies/${x.policy}`, headers: ifMatch },
  ];
}

describe('tenancy', () => {
  it('org A gets 404 on every project route for org B ids, and B is untouched', async () => {
    const ownPolicy = (await api('POST', '/policies', a.token, { name: 'A policy', rego: 'package a\n' })).json.id;
    // A's own policy linked to B's project must be refused too.
    await expectAllNotFound(api, a.token, projectRouteCases(ids, ownPolicy));
    await expectAllNotFound(api, a.token, projectRouteCases(ids));
    const project = await api('GET', `/projects/${ids.project}`, b.token);
    expect(project.json).toMatchObject({ name: 'B project', version: expect.any(Number), status: 'error' });
    expect((await api('GET', `/projects/${ids.project}/policies`, b.token)).json.items).toHaveLength(1);
    expect((await api('GET', `/projects/${ids.project}/baselines`, b.token)).json.items).toHaveLength(1);
  });

  // RFC 9110 §13.2.1: preconditions are ignored when the answer without them would be neither 2xx
  // nor 412, so an If-Match that names no version (`*`, garbage, a stale one) cannot tell org A
  // that org B's object exists.
  it('an If-Match that matches nothing still answers 404 for org B ids; on the caller\'s own object, 412', async () => {
    const withIfMatch = [...projectRouteCases(ids), ...lifecycleRouteCases(ids)].filter((c) => c.headers?.['if-match']);
    expect(withIfMatch.length).toBeGreaterThan(5);
    for (const value of ['*', 'garbage', '"999"', 'W/"1", "2"']) {
      await expectAllNotFound(api, a.token, withIfMatch.map((c) => ({ ...c, headers: { ...c.headers, 'if-match': value } })));
    }
    const c = await createTenant(database, { role: 'owner' });
    const own = (await ok(api('POST', '/projects', c.token, { name: 'C own' }), 201)).id;
    for (const value of ['*', 'garbage', '"999"']) {
      expectProblem(await api('PATCH', `/projects/${own}`, c.token, { name: 'x' }, { 'if-match': value }), 412);
    }
    expectProblem(await api('PATCH', `/projects/${own}`, c.token, { name: 'x' }), 428);
  });

  it('org A gets 404 on every lifecycle route for org B ids, and B is untouched', async () => {
    await expectAllNotFound(api, a.token, lifecycleRouteCases(ids));
    expect((await ok(api('GET', `/promotions/${ids.promotion}`, b.token))).status).toBe('requested');
    expect((await ok(api('GET', `/reevaluations/${ids.reevaluation}`, b.token))).status).toBe('pending');
    expect((await ok(api('GET', `/analysis-sessions/${ids.session}`, b.token))).tasks[0].status).toBe('pending');
    expect((await ok(api('GET', `/experiments/${ids.experiment}`, b.token))).status).toBe('running');
    expect((await ok(api('GET', '/blacklist', b.token))).items).toHaveLength(1);
  });

  it('blacklisting a hash in org A never quarantines org B\'s versions; lists and stats are per org', async () => {
    const res = await ok(api('POST', '/blacklist', a.token, { config_hash: ids.v2Hash, reason: 'a' }), 201);
    expect(res.quarantined).toEqual([]);
    expect((await ok(api('GET', `/projects/${ids.lcProject}/versions/${ids.v2}`, b.token))).zone).toBe('v2');
    expect((await ok(api('GET', '/quarantine', a.token))).items).toEqual([]);
    expect((await ok(api('GET', '/promotions', a.token))).items).toEqual([]);
    expect(await ok(api('GET', '/quarantine/stats', a.token))).toMatchObject({ total_records: 0, pending_requests: 0 });
    expect(await ok(api('GET', '/quarantine/stats', b.token))).toMatchObject({ total_records: 1, pending_requests: 1 });
  });

  it('lists never show another org\'s rows', async () => {
    const list = await api('GET', '/projects?include_deleted=true', a.token);
    expect(list.json.items.map((p: any) => p.name)).toEqual(['A project']);
    const audit = await api('GET', '/audit?limit=100', a.token);
    expect(audit.json.items.every((r: any) => r.row_id !== ids.project)).toBe(true);
  });

  it('RLS holds when a query forgets its org filter (application role inside withTenant)', async () => {
    await withTenant(database, { orgId: a.orgId, userId: a.userId }, async (tx) => {
      const role = await tx.execute(sql`select current_user as u`);
      expect(JSON.stringify(role)).toContain('lattice_app');
      const all = await tx.select().from(projects); // deliberately unscoped
      expect(all.length).toBeGreaterThan(0);
      expect(all.every((p) => p.orgId === a.orgId)).toBe(true);
      expect(await tx.select().from(versions).where(eq(versions.id, ids.version!))).toEqual([]);
      expect((await tx.select().from(auditLog)).every((r) => r.orgId === a.orgId)).toBe(true);
      const touched = await tx.update(projects).set({ name: 'pwned' }).where(eq(projects.id, ids.project!)).returning();
      expect(touched).toEqual([]);
    });
    // Writing a row into another org is refused by the policy's WITH CHECK.
    await expect(
      withTenant(database, { orgId: a.orgId, userId: a.userId }, (tx) => tx.insert(projects).values({ orgId: b.orgId, name: 'smuggled', slug: 'smuggled' })),
    ).rejects.toThrow();
  });
});

describe('roles', () => {
  it('viewers read, members write, admins delete and restore', async () => {
    const viewer = await createTenant(database, { role: 'viewer', orgId: a.orgId });
    const member = await createTenant(database, { role: 'member', orgId: a.orgId });
    const p = (await api('POST', '/projects', member.token, { name: 'roles' })).json;
    expect((await api('GET', `/projects/${p.id}`, viewer.token)).status).toBe(200);
    expectProblem(await api('POST', `/projects/${p.id}/versions`, viewer.token, { config: {} }), 403);
    expectProblem(await api('PATCH', `/projects/${p.id}`, viewer.token, { name: 'x' }, { 'if-match': '"1"' }), 403);
    expectProblem(await api('DELETE', `/projects/${p.id}`, member.token, undefined, { 'if-match': '"1"' }), 403);
    expectProblem(await api('POST', '/policies', viewer.token, { name: 'v', rego: 'package v\n' }), 403);
    expect((await api('DELETE', `/projects/${p.id}`, a.token, undefined, { 'if-match': '"1"' })).status).toBe(204);
  });
});
