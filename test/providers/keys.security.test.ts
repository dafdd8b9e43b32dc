import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { kmsKeyEncryptor } from '../../functions/shared/crypto/kms.js';
import { setLogSink } from '../../functions/shared/http/index.js';
import { addressAllowed, assertPublicUrl } from '../../functions/providers/service/ssrf.js';
import { kmsClientFor, startKmsFake, type KmsFake } from '../fakes/kms.js';
import { startOpenAiUpstream } from '../fakes/openai-upstream.js';
import type { FakeUpstream } from '../fakes/upstream-core.js';
import { call } from '../support/app.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant, type TestTenant } from '../support/tenants.js';
import { pointCatalog, startGateway, type Gateway } from '../support/gateway.js';

const { database } = await createTestDatabase();
const SECRET = 'sk-byok-very-secret-0123456789-abcdefWXYZ';
let kms: KmsFake;
let kmsClient: Awaited<ReturnType<typeof kmsClientFor>>;
let upstream: FakeUpstream;
let gw: Gateway;
let alice: TestTenant;
let bob: TestTenant; // same org, member
let eve: TestTenant; // another org, admin
const logs: string[] = [];
let previousSink: (line: string) => void;
const responses: string[] = [];

async function api(token: string, method: string, path: string, body?: unknown, headers?: Record<string, string>) {
  const res = await call(gw.app, method, path, { token, body, headers });
  responses.push(res.text, JSON.stringify([...(res.headers as unknown as Map<string, string>).entries()]));
  return res;
}

beforeAll(async () => {
  previousSink = setLogSink((line) => logs.push(line));
  process.env.LOG_LEVEL = 'debug';
  kms = await startKmsFake();
  kmsClient = await kmsClientFor(kms);
  upstream = await startOpenAiUpstream({ apiKey: SECRET });
  await pointCatalog(database, 'openai', upstream.baseUrl);
  gw = await startGateway(database, { keyEncryptor: await kmsKeyEncryptor({ keyName: kms.keyName, client: kmsClient }), platformKeys: {} });
  alice = await createTenant(database, { role: 'member' });
  bob = await createTenant(database, { role: 'member', orgId: alice.orgId });
  eve = await createTenant(database, { role: 'admin' });
});
afterAll(async () => {
  setLogSink(previousSink);
  process.env.LOG_LEVEL = 'warn';
  await gw.close();
  await upstream.close();
  await kmsClient.close();
  await kms.close();
});

describe('BYOK keys under Cloud KMS', () => {
  let keyId: string;
  let etag: string;

  it('stores the key (201, fingerprint only), uses it for calls, verifies and rotates it to a new KMS version', async () => {
    const created = await api(alice.token, 'POST', '/keys', { provider: 'openai', name: 'openai', api_key: SECRET });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ provider: 'openai', name: 'openai', fingerprint: 'WXYZ', status: 'active' });
    expect(Object.keys(created.json)).not.toContain('api_key');
    keyId = created.json.id;

    // No platform key is configured: this call can only work with Alice's own key, decrypted through KMS.
    const decryptsBefore = kms.calls.decrypt ?? 0;
    const client = new OpenAI({ apiKey: alice.token, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const out = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'byok call' }] });
    responses.push(JSON.stringify(out));
    expect(out.choices[0]!.message.content).toBe('Echo: byok call');
    expect(upstream.requests.at(-1)!.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(kms.calls.decrypt).toBe(decryptsBefore + 1);

    const verified = await api(alice.token, 'POST', `/keys/${keyId}/verify`);
    expect(verified.status).toBe(200);
    expect(verified.json).toMatchObject({ status: 'active', verified: true });

    const before = (await api(alice.token, 'GET', `/keys/${keyId}`)).json.key_version;
    const newVersion = kms.rotate();
    const rotated = await api(alice.token, 'POST', `/keys/${keyId}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.json.key_version).toBe(newVersion);
    expect(rotated.json.key_version).not.toBe(before);
    etag = rotated.headers.get('etag')!;
    const after = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'after rotation' }] });
    expect(after.choices[0]!.message.content).toBe('Echo: after rotation');
  });

  it("another user's key answers 404 (same org or not), on every route", async () => {
    for (const other of [bob, eve]) {
      expect((await api(other.token, 'GET', `/keys/${keyId}`)).status).toBe(404);
      expect((await api(other.token, 'POST', `/keys/${keyId}/verify`)).status).toBe(404);
      expect((await api(other.token, 'POST', `/keys/${keyId}/rotate`)).status).toBe(404);
      expect((await api(other.token, 'DELETE', `/keys/${keyId}`, undefined, { 'if-match': etag })).status).toBe(404);
      // An If-Match naming no version of ours is weighed only once the key is found (RFC 9110 §13.2.1).
      for (const ifMatch of ['*', 'garbage', '"999"']) {
        expect((await api(other.token, 'DELETE', `/keys/${keyId}`, undefined, { 'if-match': ifMatch })).status).toBe(404);
        expect((await api(other.token, 'POST', `/keys/${keyId}/rotate`, undefined, { 'if-match': ifMatch })).status).toBe(404);
      }
      expect((await api(other.token, 'GET', '/keys')).json.items).toEqual([]);
    }
  });

  it("another user's usage and quota answer 404", async () => {
    expect((await api(bob.token, 'GET', `/usage?user_id=${alice.userId}`)).status).toBe(404);
    expect((await api(eve.token, 'GET', `/usage?user_id=${alice.userId}`)).status).toBe(404);
    expect((await api(bob.token, 'GET', `/quotas/users/${alice.userId}`)).status).toBe(404);
    expect((await api(eve.token, 'GET', `/quotas/users/${alice.userId}`)).status).toBe(404);
    expect((await api(eve.token, 'PUT', `/quotas/users/${alice.userId}`, { daily_token_limit: 1 })).status).toBe(404);
    const own = await api(alice.token, 'GET', '/usage?group_by=model');
    expect(own.status).toBe(200);
    expect(own.json.totals.requests).toBe(2);
    expect(own.json.items[0]).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', requests: 2 });
    const quota = await api(alice.token, 'GET', '/quotas');
    expect(quota.json.daily.tokens_used).toBeGreaterThan(0);
  });

  it('a provider error that echoes the key never reaches the client; the refusal keeps its 401', async () => {
    const wrong = await api(bob.token, 'POST', '/keys', { provider: 'openai', name: 'openai', api_key: 'sk-wrong-key-for-bob-000000LMNO' });
    expect(wrong.status).toBe(201);
    const res = await api(bob.token, 'POST', '/v1/chat/completions', { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    // 401 (not a 5xx) so SDKs do not retry a bad key; the provider's explanation survives, the key does not.
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('upstream-auth-failed');
    expect(res.json.error.message).toContain('Incorrect API key provided: [redacted].');
    expect(res.text).not.toMatch(/sk-wrong|LMNO/);
    const verify = await api(bob.token, 'POST', `/keys/${wrong.json.id}/verify`);
    expect(verify.json).toMatchObject({ status: 'invalid', verified: false });
  });

  it('delete needs If-Match, then shreds the ciphertext', async () => {
    expect((await api(alice.token, 'DELETE', `/keys/${keyId}`)).status).toBe(428);
    expect((await api(alice.token, 'DELETE', `/keys/${keyId}`, undefined, { 'if-match': etag })).status).toBe(204);
    expect((await api(alice.token, 'GET', `/keys/${keyId}`)).status).toBe(404);
    const { rows } = await database.pool!.query('SELECT encrypted_key FROM providers.user_providers WHERE id = $1', [keyId]);
    expect(rows[0].encrypted_key).toBe('shredded');
  });

  it('no plaintext key in the database, the logs or any response', async () => {
    const needles = [SECRET, 'sk-wrong-key-for-bob-000000LMNO', Buffer.from(SECRET).toString('base64')];
    const { rows: tables } = await database.pool!.query<{ s: string; t: string }>(
      `SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_schema IN ('providers', 'audits', 'ops', 'auth', 'analytics') AND table_type = 'BASE TABLE'`);
    let scanned = 0;
    for (const { s, t } of tables) {
      const { rows } = await database.pool!.query(`SELECT x::text AS row FROM ${s}.${t} x`);
      for (const r of rows) for (const n of needles) expect(r.row, `${s}.${t}`).not.toContain(n);
      scanned += rows.length;
    }
    expect(scanned).toBeGreaterThan(5);
    expect(logs.length).toBeGreaterThan(5);
    for (const n of needles) {
      expect(logs.join('\n')).not.toContain(n);
      expect(responses.join('\n')).not.toContain(n);
    }
  });
});

describe('gateway API keys', () => {
  it('shown once, usable by the openai client, scoped, refused on management routes, revocable', async () => {
    const t = await createTenant(database, { role: 'member' });
    await api(t.token, 'POST', '/keys', { provider: 'openai', name: 'openai', api_key: SECRET });
    const created = await api(t.token, 'POST', '/api-keys', { name: 'ci', scopes: ['chat', 'usage'] });
    expect(created.status).toBe(201);
    expect(created.json.key).toMatch(/^llk_[A-Za-z0-9]{12}_/);
    const listed = await api(t.token, 'GET', '/api-keys');
    expect(JSON.stringify(listed.json)).not.toContain(created.json.key);
    const { rows } = await database.pool!.query('SELECT key_hash FROM providers.api_keys WHERE id = $1', [created.json.id]);
    expect(rows[0].key_hash).toMatch(/^[0-9a-f]{64}$/);

    const client = new OpenAI({ apiKey: created.json.key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const out = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'via api key' }] });
    expect(out.choices[0]!.message.content).toBe('Echo: via api key');
    expect((await client.models.list().catch((e) => e)).status).toBe(403); // no 'models' scope
    for (const refused of [await api(created.json.key, 'GET', '/keys'), await api(created.json.key, 'POST', '/api-keys', { name: 'escalate' }), await api(created.json.key, 'GET', '/quotas/org')]) {
      expect(refused.status).toBe(403);
      expect(refused.json.type).toMatch(/:api-key-not-allowed$/);
    }
    expect((await api(created.json.key, 'GET', '/usage')).status).toBe(200);
    // Another user cannot revoke it.
    expect((await api(alice.token, 'DELETE', `/api-keys/${created.json.id}`)).status).toBe(404);
    expect((await api(t.token, 'DELETE', `/api-keys/${created.json.id}`)).status).toBe(204);
    const after = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(after.status).toBe(401);
    expect((await api('llk_notarealkey000_xxxxxxxxxxxxxxxxxxxx', 'GET', '/usage')).status).toBe(401);
    // A key that is not (or no longer) valid is refused as such on management routes too, before their API-key rule.
    const revoked = await api(created.json.key, 'GET', '/keys');
    expect(revoked.status).toBe(401);
    expect(revoked.json.type).toMatch(/:invalid-api-key$/);
  });
});

describe('SSRF rule for BYOK base_url', () => {
  it.each([
    ['http://169.254.169.254/v1', 'link-local (metadata server)'],
    ['http://10.1.2.3/v1', 'private'],
    ['http://[fd00::1]/v1', 'unique local IPv6'],
    ['http://[::ffff:192.168.1.1]/v1', 'IPv4-mapped private'],
    ['ftp://example.com/v1', 'not http(s)'],
  ])('refuses %s (%s)', async (base_url) => {
    const t = await createTenant(database, { role: 'member' });
    const res = await api(t.token, 'POST', '/keys', { provider: 'openai_compatible', name: 'x', api_key: 'sk-anything-1234', base_url });
    expect([422]).toContain(res.status);
  });

  it('production: https only and loopback refused; development/test: loopback allowed', async () => {
    await expect(assertPublicUrl('http://example.com', { production: true, resolve: async () => ['93.184.215.14'] })).rejects.toMatchObject({ status: 422 });
    await expect(assertPublicUrl('https://localhost', { production: true, resolve: async () => ['127.0.0.1'] })).rejects.toMatchObject({ status: 422 });
    await expect(assertPublicUrl('https://rebind.example', { production: true, resolve: async () => ['93.184.215.14', '10.0.0.5'] })).rejects.toMatchObject({ status: 422 });
    await expect(assertPublicUrl('https://api.example', { production: true, resolve: async () => ['93.184.215.14'] })).resolves.toBeInstanceOf(URL);
    expect(addressAllowed('127.0.0.1', true)).toBe(true);
    expect(addressAllowed('::1', false)).toBe(false);
    expect(addressAllowed('100.64.0.1', true)).toBe(false);
  });
});
