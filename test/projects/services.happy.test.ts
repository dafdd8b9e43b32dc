import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSession } from '../../functions/projects/service/analysis.js';
import { markAvailable, registerArtifact, requireArtifact, uploadGrant, verifyUpload } from '../../functions/projects/service/artifacts.js';
import { createProject, getProject, listProjects, requireProject, updateProject } from '../../functions/projects/service/projects.js';
import { createVersion, listHistory, moveZone, requireVersion } from '../../functions/projects/service/versions.js';
import type { Tenant } from '../../functions/shared/http/index.js';
import { filesystemObjectStore, OBJECT_ROUTE } from '../../functions/shared/storage/filesystem.js';
import { sha256 } from '../support/artifacts.js';
import { createTestDatabase, inRolledBackTenant } from '../support/db.js';
import { createTeam, createTenant } from '../support/tenants.js';

/**
 * The projects services called as a route calls them, `(tx, tenant, …)`, each test inside one tenant
 * transaction that is always rolled back (test/support/db.ts): one database for the file, no rows left.
 */
const { database } = await createTestDatabase();
const { member } = await createTeam(database, { member: 'member' });
const stranger = await createTenant(database, { role: 'admin' });
const tenantOf = (u: { orgId: string; userId: string; role: Tenant['role'] }): Tenant => ({ orgId: u.orgId, userId: u.userId, role: u.role });
const count = async (table: string, id: string) => (await database.pool!.query(`select count(*)::int as n from ${table} where id = $1`, [id])).rows[0].n as number;

const root = await mkdtemp(join(tmpdir(), 'lattice-services-'));
afterAll(() => rm(root, { recursive: true, force: true }));
const store = filesystemObjectStore({ root, baseUrl: 'http://objects.test' });
const limits = { maxBytes: 1024, orgQuotaBytes: 4096 };

describe('projects services in a rolled-back tenant transaction', () => {
  it('create, read, patch and list a project, leaving nothing behind', async () => {
    const id = await inRolledBackTenant(database, tenantOf(member), async (tx, t) => {
      const created = await createProject(tx, t, { name: 'Service Test Project' });
      expect(created).toMatchObject({ orgId: t.orgId, createdBy: t.userId, slug: 'service-test-project', version: 1 });
      const patched = await updateProject(tx, t, { projectId: created.id, expectedVersion: 1, patch: { description: 'patched' } });
      expect(patched).toMatchObject({ description: 'patched', version: 2, updatedBy: t.userId });
      expect((await getProject(tx, t, { projectId: created.id })).description).toBe('patched');
      const page = await listProjects(tx, t, { limit: 10, sort: 'name', q: 'Service Test' });
      expect(page.items.map((p) => p.id)).toEqual([created.id]);
      return created.id;
    });
    expect(await count('projects.projects', id)).toBe(0);
  });

  it('the tenant argument scopes every read: another organization’s project is a 404', async () => {
    await inRolledBackTenant(database, tenantOf(member), async (tx, t) => {
      const project = await createProject(tx, t, { name: 'mine' });
      const other = tenantOf(stranger);
      await expect(requireProject(tx, other, { projectId: project.id })).rejects.toMatchObject({ status: 404 });
      await expect(updateProject(tx, other, { projectId: project.id, expectedVersion: 1, patch: { name: 'taken over' } })).rejects.toMatchObject({ status: 404 });
      expect((await listProjects(tx, other, { limit: 10, sort: 'created_at' })).items.map((p) => p.id)).not.toContain(project.id);
    });
  });

  it('a version numbered under the project lock, moved between zones with its history', async () => {
    await inRolledBackTenant(database, tenantOf(member), async (tx, t) => {
      const project = await createProject(tx, t, { name: 'versioned' });
      const first = await createVersion(tx, t, { projectId: project.id, config: { a: 1 } });
      const second = await createVersion(tx, t, { projectId: project.id, config: { a: 2 }, notes: 'two' });
      expect([first.versionNumber, second.versionNumber]).toEqual([1, 2]);
      const moved = await moveZone(tx, t, { version: second, to: 'v2', reason: 'promoted in a test' });
      expect((await requireVersion(tx, t, { versionId: moved.id, projectId: project.id })).zone).toBe('v2');
      const history = await listHistory(tx, t, { projectId: project.id, limit: 10, version_id: second.id });
      // Both rows carry the transaction's now(): their order within the page is the id's, not the moves'.
      expect(history.items).toHaveLength(2);
      expect(history.items.map((h) => [h.fromZone, h.toZone, h.actorId])).toEqual(
        expect.arrayContaining([
          ['v1', 'v2', t.userId],
          [null, 'v1', t.userId],
        ]),
      );
    });
  });

  it('an artifact becomes available only after verifyUpload passed outside the transaction', async () => {
    const content = 'artifact bytes';
    const t = tenantOf(member);
    const { session, artifact } = await inRolledBackTenant(database, t, async (tx) => {
      const project = await createProject(tx, t, { name: 'analysed' });
      const version = await createVersion(tx, t, { projectId: project.id, config: { m: 1 }, zone: 'v2' });
      const session = await createSession(tx, t, { projectId: project.id, versionId: version.id });
      const artifact = await registerArtifact(tx, t, { sessionId: session.id, name: 'out.txt', sha256: sha256(content), size_bytes: content.length, content_type: 'text/plain', store, limits });
      expect(artifact.status).toBe('pending');
      await expect(verifyUpload(store, artifact)).rejects.toMatchObject({ status: 409, code: 'upload-missing' });

      const grant = await uploadGrant(store, artifact);
      const put = await store.serve(new Request(grant.url, { method: 'PUT', headers: grant.headers, body: content }), new URL(grant.url).pathname.slice(OBJECT_ROUTE.length));
      expect(put.status).toBeLessThan(300);
      await verifyUpload(store, artifact);
      const available = await markAvailable(tx, t, { sessionId: session.id, artifactId: artifact.id });
      expect(available).toMatchObject({ status: 'available', updatedBy: t.userId });
      expect((await requireArtifact(tx, t, { sessionId: session.id, artifactId: artifact.id })).verifiedAt).toBeInstanceOf(Date);
      return { session, artifact };
    });
    expect(await count('production.artifacts', artifact.id)).toBe(0);
    expect(await count('production.analysis_sessions', session.id)).toBe(0);
  });
});
