import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectName } from '../../functions/shared/storage/index.js';
import { createTestDatabase } from '../support/db.js';
import { ok } from '../support/lifecycle.js';
import { expectProblem } from '../support/projects.js';
import { createTeam, createTenant } from '../support/tenants.js';
import { artifactWorld, sha256, type StoreKind } from '../support/artifacts.js';

const { database } = await createTestDatabase();
const team = await createTeam(database, { member: 'member', admin1: 'admin', admin2: 'admin' });
const viewer = await createTenant(database, { role: 'viewer', orgId: team.member.orgId });
const outsider = await createTeam(database, { member: 'member', admin1: 'admin', admin2: 'admin' });
const MAX = 4096;
const QUOTA = 10_000;

describe.each<StoreKind>(['gcs', 'filesystem'])('artifact uploads that must fail (%s store)', (kind) => {
  let world: Awaited<ReturnType<typeof artifactWorld>>;
  let session: { id: string };
  const register = (content: string | Buffer, extra: Record<string, unknown> = {}, token = team.member.token, sid = session.id) =>
    world.api('POST', `/analysis-sessions/${sid}/artifacts`, token, { name: 'a.bin', sha256: sha256(content), size_bytes: Buffer.byteLength(content), content_type: 'application/octet-stream', ...extra });
  const complete = (id: string, token = team.member.token, sid = session.id) => world.api('POST', `/analysis-sessions/${sid}/artifacts/${id}/complete`, token);

  beforeAll(async () => {
    world = await artifactWorld(database, kind, { ARTIFACT_MAX_BYTES: String(MAX), ARTIFACT_ORG_QUOTA_BYTES: String(QUOTA) });
    session = await world.session(team.member, team.admin1, team.admin2);
  });
  afterAll(() => world.close());

  it('tampered content of the right size: complete answers 422 naming both hashes, deletes the object, keeps the artifact pending; a fresh link then works', async () => {
    const artifact = await ok(register('the real report'), 201);
    expect(await world.upload(artifact.upload, 'the fake report')).toBe(200);
    const res = await complete(artifact.id);
    expectProblem(res, 422, 'checksum-mismatch');
    expect(res.json).toMatchObject({ expected: { sha256: sha256('the real report'), size_bytes: 15 }, actual: { sha256: sha256('the fake report'), size_bytes: 15 } });
    expect(await world.store.stat(objectName(team.member.orgId, artifact.id))).toBeUndefined();
    expectProblem(await world.api('GET', `/analysis-sessions/${session.id}/artifacts/${artifact.id}/content`, team.member.token), 409, 'artifact-not-available');

    const again = await ok(world.api('POST', `/analysis-sessions/${session.id}/artifacts/${artifact.id}/upload-url`, team.member.token));
    expect(await world.upload(again.upload, 'the real report')).toBe(200);
    expect(await ok(complete(artifact.id))).toMatchObject({ status: 'available' });
  });

  it('a body of the wrong size never lands (the store refuses it), so complete finds nothing', async () => {
    const artifact = await ok(register('twelve bytes'), 201);
    expect(await world.upload(artifact.upload, 'eleven byte')).toBeGreaterThanOrEqual(400);
    expect(await world.upload(artifact.upload, 'thirteen byte')).toBeGreaterThanOrEqual(400);
    expectProblem(await complete(artifact.id), 409, 'upload-missing');
  });

  it('another content type than registered is refused by the signature', async () => {
    const artifact = await ok(register('typed'), 201);
    expect(await world.upload({ ...artifact.upload, headers: { ...artifact.upload.headers, 'content-type': 'text/html' } }, 'typed')).toBe(403);
    expectProblem(await complete(artifact.id), 409, 'upload-missing');
  });

  it('an upload link used after it expired is refused; a fresh one works', async () => {
    const artifact = await ok(register('late bytes'), 201);
    const ttl = (Date.parse(artifact.upload.expires_at) - Date.now()) / 1000;
    expect(ttl).toBeLessThanOrEqual(15 * 60);
    world.advance(15 * 60 + 1);
    try {
      expect(await world.upload(artifact.upload, 'late bytes')).toBe(400);
      expectProblem(await complete(artifact.id), 409, 'upload-missing');
    } finally {
      world.advance(-(15 * 60 + 1));
    }
    const fresh = await ok(world.api('POST', `/analysis-sessions/${session.id}/artifacts/${artifact.id}/upload-url`, team.member.token));
    expect(await world.upload(fresh.upload, 'late bytes')).toBe(200);
    expect(await ok(complete(artifact.id))).toMatchObject({ status: 'available' });
  });

  it('a verified artifact cannot be overwritten through its old link', async () => {
    const artifact = await ok(register('final'), 201);
    expect(await world.upload(artifact.upload, 'final')).toBe(200);
    await ok(complete(artifact.id));
    expect(await world.upload(artifact.upload, 'FINAL')).toBe(412);
    const download = await fetch((await ok(world.api('GET', `/analysis-sessions/${session.id}/artifacts/${artifact.id}/content`, team.member.token))).url);
    expect(await download.text()).toBe('final');
  });

  it('another organization gets 404 at every step, and a session of its own does not reach our artifact', async () => {
    const artifact = await ok(register('ours'), 201);
    expect(await world.upload(artifact.upload, 'ours')).toBe(200);
    const theirs = await world.session(outsider.member, outsider.admin1, outsider.admin2);
    const base = `/analysis-sessions/${session.id}/artifacts`;
    for (const [method, path] of [
      ['POST', base],
      ['GET', base],
      ['POST', `${base}/${artifact.id}/upload-url`],
      ['POST', `${base}/${artifact.id}/complete`],
      ['GET', `${base}/${artifact.id}/content`],
      ['POST', `/analysis-sessions/${theirs.id}/artifacts/${artifact.id}/upload-url`],
      ['POST', `/analysis-sessions/${theirs.id}/artifacts/${artifact.id}/complete`],
      ['GET', `/analysis-sessions/${theirs.id}/artifacts/${artifact.id}/content`],
    ] as const) {
      const res = await world.api(method, path, outsider.member.token, method === 'POST' && path === base ? { name: 'x', sha256: sha256('x'), size_bytes: 1 } : undefined);
      expectProblem(res, 404);
    }
    expect((await ok(world.api('GET', base, team.member.token))).items.find((a: any) => a.id === artifact.id)).toMatchObject({ status: 'pending' });
    await ok(complete(artifact.id));
  });

  it('viewers read but cannot register or complete; unknown fields such as a uri are refused', async () => {
    expectProblem(await register('v', {}, viewer.token), 403);
    expectProblem(await register('v', { uri: 'gs://elsewhere/x' }), 422);
    expectProblem(await register('v', { content_type: 'text/plain\r\nx-evil: 1' }), 422);
    expectProblem(await register('v', { expires_at: new Date(Date.now() + 40 * 86_400_000).toISOString() }), 422);
    await ok(world.api('GET', `/analysis-sessions/${session.id}/artifacts`, viewer.token));
  });

  it('refuses an artifact over ARTIFACT_MAX_BYTES with 413 and one over the organization quota with 429, naming the limit', async () => {
    const big = await register('x', { size_bytes: MAX + 1 });
    expectProblem(big, 413, 'artifact-too-large');
    expect(big.json).toMatchObject({ limit_bytes: MAX });
    expect(big.json.detail).toContain('ARTIFACT_MAX_BYTES');

    const used = Number((await database.pool!.query(`select coalesce(sum(size_bytes), 0)::bigint as n from production.artifacts where org_id = $1 and expires_at > now()`, [team.member.orgId])).rows[0].n);
    const room = QUOTA - used;
    const fillers: string[] = [];
    for (let left = room; left > 0; left -= Math.min(MAX, left)) fillers.push((await ok(register('q', { size_bytes: Math.min(MAX, left) }), 201)).id);
    const over = await register('q', { size_bytes: 1 });
    expectProblem(over, 429, 'storage-quota-exceeded');
    expect(over.json).toMatchObject({ limit_bytes: QUOTA, used_bytes: QUOTA });
    expect(over.json.detail).toContain('ARTIFACT_ORG_QUOTA_BYTES');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another organization has its own quota.
    const theirs = await world.session(outsider.member, outsider.admin1, outsider.admin2);
    await ok(register('o', {}, outsider.member.token, theirs.id), 201);
    // Expired artifacts stop counting at once, before the cleanup job runs.
    await database.pool!.query(`update production.artifacts set expires_at = now() - interval '1 second' where id = any($1::uuid[])`, [fillers]);
    await ok(register('q', { size_bytes: 1 }), 201);
  });
});
