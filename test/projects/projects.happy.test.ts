import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/db.js';
import { expectProblem, projectsApp } from '../support/projects.js';
import { createTeam, createTenant } from '../support/tenants.js';

const { database } = await createTestDatabase();
const { api } = projectsApp(database);

const { admin, member, viewer } = await createTeam(database, { admin: 'admin', member: 'member', viewer: 'viewer' });

describe('projects CRUD', () => {
  it('creates a project with status unknown and an ETag, derives the slug', async () => {
    const res = await api('POST', '/projects', member.token, { name: 'Lattice Core!', description: 'the core' });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ id: expect.any(String), name: 'Lattice Core!', slug: 'lattice-core', status: 'unknown', schema_status: 'not_run', version: 1, org_id: admin.orgId, created_by: member.userId });
    expect(res.headers.get('etag')).toBe('"1"');
    const again = await api('POST', '/projects', member.token, { name: 'Lattice Core' });
    expect(again.status).toBe(201);
    expect(again.json.slug).toMatch(/^lattice-core-[0-9a-f]{6}$/);
  });

  it('refuses a taken slug with 409, a viewer with 403', async () => {
    expect((await api('POST', '/projects', member.token, { name: 'A', slug: 'taken-slug' })).status).toBe(201);
    expectProblem(await api('POST', '/projects', member.token, { name: 'B', slug: 'taken-slug' }), 409, 'slug-taken');
    expectProblem(await api('POST', '/projects', viewer.token, { name: 'C' }), 403);
  });

  it('reads, patches with If-Match, deletes softly and restores', async () => {
    const created = (await api('POST', '/projects', member.token, { name: 'Editable' })).json;
    const got = await api('GET', `/projects/${created.id}`, viewer.token);
    expect(got.status).toBe(200);
    expect(got.headers.get('etag')).toBe('"1"');

    expectProblem(await api('PATCH', `/projects/${created.id}`, member.token, { name: 'x' }), 428);
    expectProblem(await api('PATCH', `/projects/${created.id}`, member.token, { name: 'x' }, { 'if-match': '"7"' }), 412);
    const patched = await api('PATCH', `/projects/${created.id}`, member.token, { name: 'Edited', description: null }, { 'if-match': '"1"' });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ name: 'Edited', description: null, version: 2, updated_by: member.userId });
    expect(patched.headers.get('etag')).toBe('"2"');

    expectProblem(await api('DELETE', `/projects/${created.id}`, member.token, undefined, { 'if-match': '"2"' }), 403);
    expectProblem(await api('DELETE', `/projects/${created.id}`, admin.token, undefined, { 'if-match': '"1"' }), 412);
    expect((await api('DELETE', `/projects/${created.id}`, admin.token, undefined, { 'if-match': '"2"' })).status).toBe(204);

    expectProblem(await api('GET', `/projects/${created.id}`, admin.token), 404);
    expectProblem(await api('GET', `/projects/${created.id}?include_deleted=true`, member.token), 403);
    const deleted = await api('GET', `/projects/${created.id}?include_deleted=true`, admin.token);
    expect(deleted.json.deleted_at).toEqual(expect.any(String));
    const listed = await api('GET', '/projects?limit=100', admin.token);
    expect(listed.json.items.map((p: any) => p.id)).not.toContain(created.id);
    const listedAll = await api('GET', '/projects?limit=100&include_deleted=true', admin.token);
    expect(listedAll.json.items.map((p: any) => p.id)).toContain(created.id);

    expectProblem(await api('POST', `/projects/${created.id}/restore`, member.token), 403);
    const restored = await api('POST', `/projects/${created.id}/restore`, admin.token);
    expect(restored.status).toBe(200);
    expect(restored.json.deleted_at).toBeNull();
    expectProblem(await api('POST', `/projects/${created.id}/restore`, admin.token), 409, 'not-deleted');
  });
});

describe('project lists', () => {
  it('filters by text and status, sorts by name', async () => {
    const t = await createTenant(database, { role: 'admin' });
    for (const name of ['gamma', 'alpha', 'beta', 'alphabet soup']) await api('POST', '/projects', t.token, { name });
    const byName = await api('GET', '/projects?sort=name', t.token);
    expect(byName.json.items.map((p: any) => p.name)).toEqual(['alpha', 'alphabet soup', 'beta', 'gamma']);
    const search = await api('GET', '/projects?q=ALPHA', t.token);
    expect(search.json.items.map((p: any) => p.name).sort()).toEqual(['alpha', 'alphabet soup']);
    const wildcard = await api('GET', `/projects?q=${encodeURIComponent('%')}`, t.token);
    expect(wildcard.json.items).toEqual([]);
    const unknown = await api('GET', '/projects?status=unknown&schema_status=not_run', t.token);
    expect(unknown.json.items).toHaveLength(4);
    expect((await api('GET', '/projects?status=healthy', t.token)).json.items).toEqual([]);
  });

  it.each(['created_at', 'name'])('returns every row exactly once across pages while rows are inserted (sort=%s)', async (sort) => {
    const t = await createTenant(database, { role: 'member' });
    const original = new Set<string>();
    for (let i = 0; i < 23; i++) original.add((await api('POST', '/projects', t.token, { name: `p-${String(i).padStart(2, '0')}` })).json.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let inserted = 0;
    do {
      const res: any = await api('GET', `/projects?sort=${sort}&limit=5${cursor ? `&cursor=${cursor}` : ''}`, t.token);
      expect(res.status).toBe(200);
      seen.push(...res.json.items.map((p: any) => p.id));
      cursor = res.json.next_cursor;
      // Rows created between pages, on both sides of the cursor.
      await api('POST', '/projects', t.token, { name: `a-new-${inserted}` });
      await api('POST', '/projects', t.token, { name: `z-new-${inserted++}` });
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of original) expect(seen).toContain(id);
  });

  it('rejects a forged cursor with 400', async () => {
    expectProblem(await api('GET', '/projects?cursor=abc', viewer.token), 400, 'invalid-cursor');
    const forged = Buffer.from(JSON.stringify(['not a time', '00000000-0000-4000-8000-000000000000'])).toString('base64url');
    expectProblem(await api('GET', `/projects?cursor=${forged}`, viewer.token), 400, 'invalid-cursor');
  });
});
