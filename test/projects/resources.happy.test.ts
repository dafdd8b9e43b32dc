import { describe, expect, it } from 'vitest';
import { configHash } from '../../functions/projects/service/canonical.js';
import { createTestDatabase } from '../support/db.js';
import { expectProblem, projectsApp } from '../support/projects.js';
import { createTeam } from '../support/tenants.js';

const { database } = await createTestDatabase();
const { api } = projectsApp(database);

const { admin, member, viewer } = await createTeam(database, { admin: 'admin', member: 'member', viewer: 'viewer' });

const newProject = async (name = 'P') => (await api('POST', '/projects', member.token, { name })).json;

describe('validations and errors drive the derived status', () => {
  it('moves unknown → warning → healthy → error → healthy', async () => {
    const p = await newProject();
    const pending = await api('POST', `/projects/${p.id}/validations`, member.token, { kind: 'schema', result: 'pending' });
    expect(pending.status).toBe(201);
    expect(pending.json).toMatchObject({ id: expect.any(String), kind: 'schema', result: 'pending', project: { status: 'warning', schema_status: 'pending', last_validated_at: null } });

    const passed = await api('POST', `/projects/${p.id}/validations`, member.token, { kind: 'schema', result: 'passed', details: { files: 12 } });
    expect(passed.json.project).toMatchObject({ status: 'healthy', schema_status: 'passed', last_validated_at: expect.any(String) });

    const err = await api('POST', `/projects/${p.id}/errors`, member.token, { code: 'E001', message: 'bad lattice', severity: 'error', file_path: 'a.yaml', line_number: 3 });
    expect(err.status).toBe(201);
    expect(err.json).toMatchObject({ code: 'E001', severity: 'error', resolved_at: null, project: { status: 'error' } });
    await api('POST', `/projects/${p.id}/errors`, member.token, { code: 'I001', message: 'fyi', severity: 'info' });

    const unresolved = await api('GET', `/projects/${p.id}/errors?resolved=false`, viewer.token);
    expect(unresolved.json.items).toHaveLength(2);
    expectProblem(await api('POST', `/projects/${p.id}/errors/${err.json.id}/resolve`, viewer.token), 403);
    const resolved = await api('POST', `/projects/${p.id}/errors/${err.json.id}/resolve`, member.token);
    expect(resolved.json).toMatchObject({ resolved_at: expect.any(String), resolved_by: member.userId, project: { status: 'healthy' } });
    expectProblem(await api('POST', `/projects/${p.id}/errors/${err.json.id}/resolve`, member.token), 409, 'already-resolved');
    expect((await api('GET', `/projects/${p.id}/errors?resolved=true`, viewer.token)).json.items.map((e: any) => e.id)).toEqual([err.json.id]);

    const failed = await api('POST', `/projects/${p.id}/validations`, member.token, { kind: 'gauntlet', result: 'failed' });
    expect(failed.json.project.status).toBe('error');
    const off = await api('POST', `/projects/${p.id}/validations`, member.token, { kind: 'gauntlet', result: 'not_run' });
    expect(off.status).toBe(200);
    expect(off.json).toMatchObject({ id: null, project: { status: 'healthy', gauntlet_status: 'not_run' } });

    const runs = await api('GET', `/projects/${p.id}/validations?kind=schema`, viewer.token);
    expect(runs.json.items.map((r: any) => r.result)).toEqual(['passed', 'pending']);
  });
});

describe('versions', () => {
  it('numbers versions, hashes the canonical config and starts their history', async () => {
    const p = await newProject();
    const v1 = await api('POST', `/projects/${p.id}/versions`, member.token, { config: { b: 2, a: { y: 1, x: [1, 2] } }, notes: 'first' });
    expect(v1.status).toBe(201);
    expect(v1.json).toMatchObject({ id: expect.any(String), version_number: 1, zone: 'v1', config_hash: configHash({ a: { x: [1, 2], y: 1 }, b: 2 }) });
    const v2 = await api('POST', `/projects/${p.id}/versions`, member.token, { config: { a: { x: [1, 2], y: 1 }, b: 2 } });
    expect(v2.json).toMatchObject({ version_number: 2, config_hash: v1.json.config_hash });

    const patched = await api('PATCH', `/projects/${p.id}/versions/${v2.json.id}`, member.token, { notes: 'same config' }, { 'if-match': '"1"' });
    expect(patched.json).toMatchObject({ notes: 'same config', version: 2, config_hash: v1.json.config_hash });

    const list = await api('GET', `/projects/${p.id}/versions`, viewer.token);
    expect(list.json.items.map((v: any) => v.version_number)).toEqual([2, 1]);
    const history = await api('GET', `/projects/${p.id}/history`, viewer.token);
    expect(history.json.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ version_id: v1.json.id, from_zone: null, to_zone: 'v1', reason: 'created', actor_id: member.userId }),
        expect.objectContaining({ version_id: v2.json.id, from_zone: null, to_zone: 'v1' }),
      ]),
    );
  });

  it('numbers concurrent creates without gaps or collisions', async () => {
    const p = await newProject();
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => api('POST', `/projects/${p.id}/versions`, member.token, { config: { i } })));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(201));
    expect(results.map((r) => r.json.version_number).sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('baselines', () => {
  it('creates, edits with If-Match, checks metrics and deletes', async () => {
    const p = await newProject();
    const acc = await api('POST', `/projects/${p.id}/baselines`, member.token, { metric: 'accuracy', operator: '>=', threshold: 0.9 });
    expect(acc.status).toBe(201);
    await api('POST', `/projects/${p.id}/baselines`, member.token, { metric: 'latency_ms', operator: '<', threshold: 200 });
    expectProblem(await api('POST', `/projects/${p.id}/baselines`, member.token, { metric: 'accuracy', operator: '>=', threshold: 0.5 }), 409);

    const check = await api('POST', `/projects/${p.id}/baselines/check`, viewer.token, { metrics: { accuracy: 0.95, latency_ms: 250 } });
    expect(check.json).toEqual({
      passed: false,
      results: [
        { metric: 'accuracy', operator: '>=', threshold: 0.9, value: 0.95, passed: true },
        { metric: 'latency_ms', operator: '<', threshold: 200, value: 250, passed: false },
      ],
    });
    const edited = await api('PATCH', `/projects/${p.id}/baselines/${acc.json.id}`, member.token, { threshold: 0.97 }, { 'if-match': '"1"' });
    expect(edited.json).toMatchObject({ threshold: 0.97, version: 2 });
    expect((await api('POST', `/projects/${p.id}/baselines/check`, viewer.token, { metrics: { accuracy: 0.95, latency_ms: 10 } })).json.passed).toBe(false);
    expectProblem(await api('DELETE', `/projects/${p.id}/baselines/${acc.json.id}`, admin.token, undefined, { 'if-match': '"1"' }), 412);
    expect((await api('DELETE', `/projects/${p.id}/baselines/${acc.json.id}`, admin.token, undefined, { 'if-match': '"2"' })).status).toBe(204);
    expect((await api('GET', `/projects/${p.id}/baselines`, viewer.token)).json.items.map((b: any) => b.metric)).toEqual(['latency_ms']);
  });
});

describe('policies', () => {
  const rego = 'package lattice.example\n\ndefault allow := false\n';
  it('stores rego with revisions, links and unlinks projects', async () => {
    const created = await api('POST', '/policies', member.token, { name: 'no-secrets', rego });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'no-secrets', rego, version: 1 });
    expectProblem(await api('POST', '/policies', member.token, { name: 'no-secrets', rego }), 409, 'name-taken');
    expectProblem(await api('POST', '/policies', member.token, { name: 'bad', rego: 'allow { true }' }), 422);

    const revised = await api('PATCH', `/policies/${created.json.id}`, member.token, { rego: rego + 'allow if input.ok\n' }, { 'if-match': '"1"' });
    expect(revised.json).toMatchObject({ version: 2 });
    expect(revised.headers.get('etag')).toBe('"2"');

    const p = await newProject();
    expect((await api('POST', `/projects/${p.id}/policies`, member.token, { policy_id: created.json.id })).status).toBe(201);
    expectProblem(await api('POST', `/projects/${p.id}/policies`, member.token, { policy_id: created.json.id }), 409);
    expect((await api('GET', `/projects/${p.id}/policies`, viewer.token)).json.items.map((x: any) => x.rego)).toEqual([rego + 'allow if input.ok\n']);
    expect((await api('DELETE', `/projects/${p.id}/policies/${created.json.id}`, member.token)).status).toBe(204);
    expect((await api('GET', `/projects/${p.id}/policies`, viewer.token)).json.items).toEqual([]);

    expect((await api('DELETE', `/policies/${created.json.id}`, admin.token, undefined, { 'if-match': '"2"' })).status).toBe(204);
    expectProblem(await api('GET', `/policies/${created.json.id}`, viewer.token), 404);
  });
});

describe('audit', () => {
  it('records every write with its actor; org admins page through it', async () => {
    const p = await newProject('Audited');
    await api('PATCH', `/projects/${p.id}`, member.token, { name: 'Audited 2' }, { 'if-match': '"1"' });
    expectProblem(await api('GET', '/audit', member.token), 403);
    const rows = await api('GET', `/audit?table=projects.projects&row_id=${p.id}`, admin.token);
    expect(rows.status).toBe(200);
    expect(rows.json.items.map((r: any) => [r.action, r.actor_id])).toEqual([
      ['update', member.userId],
      ['insert', member.userId],
    ]);
    expect(rows.json.items[0].new_data.name).toBe('Audited 2');

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await api('GET', `/audit?limit=7${cursor ? `&cursor=${cursor}` : ''}`, admin.token);
      seen.push(...page.json.items.map((r: any) => r.id));
      cursor = page.json.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBeGreaterThan(10);
  });

  it('verifies the audit log for the org', async () => {
    const res = await api('GET', '/audit/verify', admin.token);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ ok: true, checked: expect.any(Number), first_bad: null });
    expect(res.json.checked).toBeGreaterThan(0);
  });
});
