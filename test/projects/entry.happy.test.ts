import { getTestServer } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/db.js';
import { listen } from '../support/app.js';
import { createTenant, type TestTenant } from '../support/tenants.js';

const { database, url } = await createTestDatabase();
let server: Awaited<ReturnType<typeof listen>>;
let member: TestTenant;

beforeAll(async () => {
  // The deployed entry builds its services from the environment, as on Cloud Run.
  process.env.DATABASE_URL = url;
  await import('../../functions/projects/index.js');
  server = await listen(getTestServer('projects'));
  member = await createTenant(database, { role: 'member' });
});
afterAll(() => server?.close());

const auth = () => ({ authorization: `Bearer ${member.token}`, 'content-type': 'application/json' });

describe('the projects entry through the functions-framework server', () => {
  it('serves a create and a read', async () => {
    const created = await fetch(`${server.url}/projects`, { method: 'POST', headers: auth(), body: JSON.stringify({ name: 'Through FF' }) });
    expect(created.status).toBe(201);
    const body: any = await created.json();
    const read = await fetch(`${server.url}/projects/${body.id}`, { headers: auth() });
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('"1"');
  });

  it('answers malformed JSON with 400 problem+json', async () => {
    const res = await fetch(`${server.url}/projects`, { method: 'POST', headers: auth(), body: '{"name":' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('answers 422 problem+json to JSON nested 30,000 deep and to NUL text, after the framework parser read them (issue 14)', async () => {
    const created: any = await (await fetch(`${server.url}/projects`, { method: 'POST', headers: auth(), body: JSON.stringify({ name: 'Deep through FF' }) })).json();
    const depth = 30_000;
    const deep = await fetch(`${server.url}/projects/${created.id}/versions`, { method: 'POST', headers: auth(), body: `{"config":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}` });
    expect(deep.status).toBe(422);
    expect(deep.headers.get('content-type')).toBe('application/problem+json');
    expect(((await deep.json()) as any).type).toMatch(/json-too-deep$/);
    const nul = await fetch(`${server.url}/projects`, { method: 'POST', headers: auth(), body: JSON.stringify({ name: 'a\u0000b' }) });
    expect(nul.status).toBe(422);
    expect(((await nul.json()) as any).errors[0].path).toBe('name');
  });

  it('publishes its OpenAPI document from the route schemas, without authentication', async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc: any = await res.json();
    for (const path of ['/projects', '/projects/{id}/checkpoints/{cid}/rollback', '/promotions/{id}/apply', '/quarantine/stats', '/audit']) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(doc.components.schemas.CreateProject.properties.name).toBeDefined();
  });
});
