import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAiUpstream } from '../fakes/openai-upstream.js';
import type { FakeUpstream } from '../fakes/upstream-core.js';
import { call } from '../support/app.js';
import { createTestDatabase } from '../support/db.js';
import { expectProblem } from '../support/projects.js';
import { createTenant, type TestTenant } from '../support/tenants.js';
import { pointCatalog, startGateway, type Gateway } from '../support/gateway.js';

/**
 * One targeted call per providers route and documented error status that no other test reached through
 * HTTP (issue 19 §6). No platform keys are configured here, so platform-model calls are refused with
 * provider-not-configured; BYOK keys go to a local OpenAI fake.
 */
const { database } = await createTestDatabase();
const SECRET = 'sk-targeted-0123456789-abcdefWXYZ';
let upstream: FakeUpstream;
let gw: Gateway;
let admin: TestTenant;
let member: TestTenant;
let outsider: TestTenant;

beforeAll(async () => {
  upstream = await startOpenAiUpstream({ apiKey: SECRET });
  await pointCatalog(database, 'openai', upstream.baseUrl);
  gw = await startGateway(database, { platformKeys: {} });
  admin = await createTenant(database, { role: 'admin' });
  member = await createTenant(database, { role: 'member', orgId: admin.orgId });
  outsider = await createTenant(database, { role: 'admin' });
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

const api = (token: string, method: string, path: string, body?: unknown, headers?: Record<string, string>) => call(gw.app, method, path, { token, body, headers });
/** /v1 errors are OpenAI-shaped JSON with the problem members beside `error`. */
const expectV1Error = (res: { status: number; json: any }, status: number, code: string) => {
  expect(res.status, JSON.stringify(res.json)).toBe(status);
  expect(res.json).toMatchObject({ status, type: `urn:lattice-lock:problem:${code}`, error: { message: expect.any(String), type: expect.any(String) } });
};

describe('quotas', () => {
  it('GET/PUT /quotas/org with ETags (admin only), PUT /quotas/users/{id} sets a member\'s limits', async () => {
    const org = await api(admin.token, 'GET', '/quotas/org');
    expect(org.status, org.text).toBe(200);
    const etag = org.headers.get('etag')!;
    expect(etag).toMatch(/^"\d+"$/);

    expect((await api(member.token, 'PUT', '/quotas/org', { daily_token_limit: 5 })).status).toBe(403);
    expectProblem(await api(admin.token, 'PUT', '/quotas/org', { daily_token_limit: 5_000 }, { 'if-match': '"999"' }), 412);
    const put = await api(admin.token, 'PUT', '/quotas/org', { daily_token_limit: 5_000, monthly_cost_limit_micros: 2_000_000 }, { 'if-match': etag });
    expect(put.status, put.text).toBe(200);
    expect(put.json).toMatchObject({ daily: { token_limit: 5_000 }, monthly: { cost_limit_micros: 2_000_000 } });
    expect(put.headers.get('etag')).not.toBe(etag);
    expect((await api(admin.token, 'GET', '/quotas/org')).json).toMatchObject({ daily: { token_limit: 5_000 }, monthly: { cost_limit_micros: 2_000_000 } });
    // The old ETag is stale now.
    expectProblem(await api(admin.token, 'PUT', '/quotas/org', { daily_token_limit: 1 }, { 'if-match': etag }), 412);

    const before = await api(admin.token, 'GET', `/quotas/users/${member.userId}`);
    expect(before.status, before.text).toBe(200);
    const set = await api(admin.token, 'PUT', `/quotas/users/${member.userId}`, { daily_token_limit: 1_234, daily_cost_limit_micros: 99 }, { 'if-match': before.headers.get('etag')! });
    expect(set.status, set.text).toBe(200);
    expect(set.json).toMatchObject({ user_id: member.userId, daily: { token_limit: 1_234, cost_limit_micros: 99 }, organization: { daily: { token_limit: 5_000 } } });
    // What the member sees as their own quota is what the admin set.
    expect((await api(member.token, 'GET', '/quotas')).json).toMatchObject({ daily: { token_limit: 1_234, cost_limit_micros: 99 } });
    expectProblem(await api(admin.token, 'PUT', `/quotas/users/${member.userId}`, { daily_token_limit: 1 }, { 'if-match': before.headers.get('etag')! }), 412);
    expectProblem(await api(outsider.token, 'PUT', `/quotas/users/${member.userId}`, { daily_token_limit: 1 }), 404);
  });
});

describe('alerts', () => {
  it('GET /alerts lists mine; DELETE /alerts/{id} needs the current ETag', async () => {
    const created = await api(member.token, 'POST', '/alerts', { threshold_percent: 80, period: 'daily', metric: 'cost', channel: 'log' });
    expect(created.status, created.text).toBe(201);
    const list = await api(member.token, 'GET', '/alerts');
    expect(list.status).toBe(200);
    expect(list.json.items.map((a: any) => a.id)).toContain(created.json.id);
    expect((await api(outsider.token, 'GET', '/alerts')).json.items.map((a: any) => a.id)).not.toContain(created.json.id);

    const etag = (await api(member.token, 'GET', `/alerts/${created.json.id}`)).headers.get('etag')!;
    expectProblem(await api(member.token, 'DELETE', `/alerts/${created.json.id}`), 428);
    expectProblem(await api(member.token, 'DELETE', `/alerts/${created.json.id}`, undefined, { 'if-match': '"999"' }), 412);
    expectProblem(await api(outsider.token, 'DELETE', `/alerts/${created.json.id}`, undefined, { 'if-match': etag }), 404);
    expect((await api(member.token, 'DELETE', `/alerts/${created.json.id}`, undefined, { 'if-match': etag })).status).toBe(204);
    expectProblem(await api(member.token, 'GET', `/alerts/${created.json.id}`), 404);
    expect((await api(member.token, 'GET', '/alerts')).json.items.map((a: any) => a.id)).not.toContain(created.json.id);
  });
});

describe('keys', () => {
  it('409 key-name-taken for a second key of the same name; 412 on rotate and delete with a stale ETag', async () => {
    const created = await api(member.token, 'POST', '/keys', { provider: 'openai', name: 'targeted', api_key: SECRET });
    expect(created.status, created.text).toBe(201);
    expectProblem(await api(member.token, 'POST', '/keys', { provider: 'openai', name: 'targeted', api_key: SECRET }), 409, 'key-name-taken');
    // Another user may use the same name: names are per user.
    expect((await api(admin.token, 'POST', '/keys', { provider: 'openai', name: 'targeted', api_key: SECRET })).status).toBe(201);

    const etag = (await api(member.token, 'GET', `/keys/${created.json.id}`)).headers.get('etag')!;
    expect(etag).toMatch(/^"\d+"$/);
    expectProblem(await api(member.token, 'POST', `/keys/${created.json.id}/rotate`, undefined, { 'if-match': '"999"' }), 412);
    const rotated = await api(member.token, 'POST', `/keys/${created.json.id}/rotate`, undefined, { 'if-match': etag });
    expect(rotated.status, rotated.text).toBe(200);
    // The pre-rotation ETag no longer deletes.
    expectProblem(await api(member.token, 'DELETE', `/keys/${created.json.id}`, undefined, { 'if-match': etag }), 412);
    expect((await api(member.token, 'DELETE', `/keys/${created.json.id}`, undefined, { 'if-match': rotated.headers.get('etag')! })).status).toBe(204);
  });
});

describe('503s of the gateway', () => {
  it('provider-not-configured: a platform model with no platform key', async () => {
    const res = await api(member.token, 'POST', '/v1/chat/completions', { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expectV1Error(res, 503, 'provider-not-configured');
    const err = await gw.client(member.token).chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    expect(err).toMatchObject({ status: 503 });
  });

  it('provider-disabled: the catalog provider of a BYOK key is switched off', async () => {
    const user = await createTenant(database, { role: 'member' });
    expect((await api(user.token, 'POST', '/keys', { provider: 'openai', name: 'mine', api_key: SECRET })).status).toBe(201);
    const okCall = await api(user.token, 'POST', '/v1/chat/completions', { model: 'mine/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(okCall.status, okCall.text).toBe(200);
    // Switched off the way operators do it: a platform administrator's PATCH under If-Match.
    const platformAdmin = await createTenant(database, { role: 'member', platformAdmin: true });
    const version = (await api(platformAdmin.token, 'GET', '/providers')).json.items.find((p: any) => p.id === 'openai').version as number;
    const off = await api(platformAdmin.token, 'PATCH', '/providers/openai', { enabled: false }, { 'if-match': `"${version}"` });
    expect(off.status, off.text).toBe(200);
    try {
      const res = await api(user.token, 'POST', '/v1/chat/completions', { model: 'mine/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      expectV1Error(res, 503, 'provider-disabled');
    } finally {
      expect((await api(platformAdmin.token, 'PATCH', '/providers/openai', { enabled: true }, { 'if-match': off.headers.get('etag')! })).status).toBe(200);
    }
  });
});
