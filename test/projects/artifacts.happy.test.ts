import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectName } from '../../functions/shared/storage/index.js';
import { createTestDatabase } from '../support/db.js';
import { ok } from '../support/lifecycle.js';
import { expectProblem } from '../support/projects.js';
import { createTeam } from '../support/tenants.js';
import { artifactWorld, sha256, type StoreKind } from '../support/artifacts.js';

const { database } = await createTestDatabase();
const team = await createTeam(database, { member: 'member', admin1: 'admin', admin2: 'admin' });

describe.each<StoreKind>(['gcs', 'filesystem'])('artifact journey through HTTP (%s store)', (kind) => {
  let world: Awaited<ReturnType<typeof artifactWorld>>;
  beforeAll(async () => {
    world = await artifactWorld(database, kind);
  });
  afterAll(() => world.close());

  it('register → upload to the signed URL → complete → download → expire and clean up, twice idempotently', async () => {
    const { api, member } = { api: world.api, member: team.member };
    const session = await world.session(team.member, team.admin1, team.admin2);
    const content = Buffer.from(JSON.stringify({ findings: [{ rule: 'naming', line: 12 }], score: 87 }));

    const artifact = await ok(api('POST', `/analysis-sessions/${session.id}/artifacts`, member.token, { name: 'review report.json', sha256: sha256(content), size_bytes: content.length, content_type: 'application/json' }), 201);
    expect(artifact).toMatchObject({ status: 'pending', verified_at: null, size_bytes: content.length, content_type: 'application/json' });
    expect(artifact.uri.endsWith(objectName(member.orgId, artifact.id))).toBe(true);
    expect(artifact.upload).toMatchObject({ method: 'PUT', headers: { 'content-type': 'application/json' }, expires_at: expect.any(String) });
    // The function never saw the bytes: the client sends them straight to the store.
    expect(await world.upload(artifact.upload, content)).toBe(200);

    const completed = await ok(api('POST', `/analysis-sessions/${session.id}/artifacts/${artifact.id}/complete`, member.token));
    expect(completed).toMatchObject({ id: artifact.id, status: 'available', verified_at: expect.any(String) });
    expect(await ok(api('POST', `/analysis-sessions/${session.id}/artifacts/${artifact.id}/complete`, member.token))).toMatchObject({ status: 'available', verified_at: completed.verified_at });
    expectProblem(await api('POST', `/analysis-sessions/${session.id}/artifacts/${artifact.id}/upload-url`, member.token), 409, 'illegal-transition');

    const link = await ok(api('GET', `/analysis-sessions/${session.id}/artifacts/${artifact.id}/content`, member.token));
    expect(link).toMatchObject({ url: expect.any(String), expires_at: expect.any(String) });
    const download = await fetch(link.url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/json');
    expect(download.headers.get('content-disposition')).toContain('filename="review report.json"');
    expect(Buffer.from(await download.arrayBuffer())).toEqual(content);
    expect((await ok(api('GET', `/analysis-sessions/${session.id}/artifacts`, member.token))).items).toEqual([expect.objectContaining({ id: artifact.id, status: 'available' })]);

    // Expiry: the artifact disappears from the API at once, and the cleanup job removes its bytes, then its row.
    await database.pool!.query(`update production.artifacts set expires_at = now() - interval '1 second' where id = $1`, [artifact.id]);
    expectProblem(await api('GET', `/analysis-sessions/${session.id}/artifacts/${artifact.id}/content`, member.token), 404);
    expect((await ok(api('GET', `/analysis-sessions/${session.id}/artifacts`, member.token))).items).toEqual([]);
    const first = await world.cleanup();
    expect(first).toMatchObject({ artifacts: 1, artifact_objects: 1 });
    expect(await world.store.stat(objectName(member.orgId, artifact.id))).toBeUndefined();
    expect((await database.pool!.query(`select count(*)::int as n from production.artifacts where id = $1`, [artifact.id])).rows[0].n).toBe(0);
    expect(await world.cleanup()).toMatchObject({ artifacts: 0, artifact_objects: 0 });
  });

  it('cleanup deletes the object of an expired upload that was never completed, and a missing object does not stop it', async () => {
    const session = await world.session(team.member, team.admin1, team.admin2);
    const make = async (content: string) => ok(world.api('POST', `/analysis-sessions/${session.id}/artifacts`, team.member.token, { name: 'x.txt', sha256: sha256(content), size_bytes: content.length, content_type: 'text/plain' }), 201);
    const uploaded = await make('uploaded, never completed');
    const never = await make('never uploaded');
    expect(await world.upload(uploaded.upload, 'uploaded, never completed')).toBe(200);
    await database.pool!.query(`update production.artifacts set expires_at = now() - interval '1 second' where id = any($1::uuid[])`, [[uploaded.id, never.id]]);
    expect(await world.cleanup()).toMatchObject({ artifacts: 2, artifact_objects: 1 });
    expect(await world.store.stat(objectName(team.member.orgId, uploaded.id))).toBeUndefined();
  });
});
