import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { httpProbe, nextHealth, recordProbe, type ProbeResult } from '../../functions/jobs/service/health.js';
import { call } from '../support/app.js';
import { rowsOf } from '../../functions/shared/db/rows.js';
import { createTestDatabase, inRolledBackSystem } from '../support/db.js';
import { jobsApp, startJwks } from '../support/jobs.js';

const { database } = await createTestDatabase();
const jwks = await startJwks();
afterAll(() => jwks.close());
const q = async (text: string, params: unknown[] = []) => (await database.pool!.query(text, params)).rows;

// What each catalog provider's probe answers on the next runs (the seeded catalog points at real APIs).
const script: Record<string, ProbeResult['status']> = {};
const app = jobsApp(database, jwks.url, { probe: async (t) => ({ status: script[t.id] ?? 'healthy', latencyMs: 12 }) });
const runHealth = async () => {
  const res = await call(app, 'POST', '/provider-health', { token: await jwks.token() });
  expect(res.status).toBe(200);
  return res.json.stats as { changes: { provider_id: string; from: string; to: string }[]; results: { provider_id: string; status: string }[] };
};
const statusOf = async (id: string) => (await q(`select status, pending_status, consecutive, latency_ms from providers.provider_health where provider_id = $1`, [id]))[0];
const events = async () => q(`select payload from ops.outbox where stream = 'domain_events' and payload->>'type' = 'provider.health_changed' order by created_at, id`);

describe('provider-health flap suppression', () => {
  it('a status changes only after 3 agreeing results, and each change emits one event', async () => {
    Object.assign(script, { openai: 'healthy', anthropic: 'down', gemini: 'healthy' });
    expect((await runHealth()).changes).toEqual([]);
    expect((await runHealth()).changes).toEqual([]);
    expect(await statusOf('anthropic')).toMatchObject({ status: 'unknown', pending_status: 'down', consecutive: 2, latency_ms: 12 });
    const third = await runHealth();
    expect(third.changes).toEqual(
      expect.arrayContaining([
        { provider_id: 'openai', from: 'unknown', to: 'healthy' },
        { provider_id: 'anthropic', from: 'unknown', to: 'down' },
      ]),
    );
    expect(await statusOf('anthropic')).toMatchObject({ status: 'down', pending_status: null, consecutive: 0 });
    expect((await events()).map((e) => e.payload)).toEqual(expect.arrayContaining([expect.objectContaining({ provider_id: 'anthropic', from: 'unknown', to: 'down' })]));
    const before = (await events()).length;
    expect((await runHealth()).changes).toEqual([]);
    expect((await events()).length).toBe(before);
  });

  it('a flapping provider keeps its status', async () => {
    const flaps: ProbeResult['status'][] = ['down', 'down', 'healthy', 'down', 'degraded', 'healthy', 'down', 'down'];
    for (const status of flaps) {
      script.openai = status;
      expect((await runHealth()).changes.filter((c) => c.provider_id === 'openai')).toEqual([]);
    }
    expect((await statusOf('openai')).status).toBe('healthy');
    script.openai = 'down';
    expect((await runHealth()).changes.filter((c) => c.provider_id === 'openai')).toEqual([{ provider_id: 'openai', from: 'healthy', to: 'down' }]);
  });

  it('records every probe in the history table', async () => {
    const [{ n }] = await q(`select count(*)::int as n from providers.provider_health_checks where provider_id = 'gemini'`);
    expect(n).toBeGreaterThanOrEqual(4);
  });

  it('recordProbe, in a rolled-back system transaction: the third agreeing result changes the status and writes its event', async () => {
    const before = await statusOf('gemini');
    const seen = [before?.status, before?.pending_status];
    const result = (['healthy', 'degraded', 'down'] as const).find((h) => !seen.includes(h))!;
    const target = { id: 'gemini', kind: 'gemini', baseUrl: null };
    const outcomes = await inRolledBackSystem(database, async (tx) => {
      const recorded = [];
      for (let i = 0; i < 3; i++) recorded.push(await recordProbe(tx, { target, result: { status: result, latencyMs: 7 } }));
      const [event] = rowsOf(await tx.execute(sql`select payload from ops.outbox where stream = 'domain_events' and payload->>'provider_id' = 'gemini' order by created_at desc, id desc limit 1`));
      return { recorded, event };
    });
    expect(outcomes.recorded.map((r) => r.change)).toEqual([undefined, undefined, { provider_id: 'gemini', from: before?.status ?? 'unknown', to: result }]);
    expect(outcomes.recorded[2]!.report).toMatchObject({ provider_id: 'gemini', probe: result, status: result, pending_status: null, consecutive: 0 });
    expect(outcomes.event?.payload).toMatchObject({ type: 'provider.health_changed', provider_id: 'gemini', to: result });
    expect(await statusOf('gemini')).toEqual(before);
  });

  it('nextHealth: a result matching the status clears a pending change', () => {
    const s = nextHealth({ status: 'healthy', pendingStatus: 'down', consecutive: 2 }, 'healthy');
    expect(s).toEqual({ status: 'healthy', pendingStatus: null, consecutive: 0, changed: undefined });
  });
});

describe('httpProbe', () => {
  const answers: Record<string, number> = { '/ok/models': 401, '/busy/models': 429, '/broken/models': 503 };
  const server = createServer((req, res) => {
    if (req.url === '/slow/models') return void setTimeout(() => res.end('{}'), 500);
    res.writeHead(answers[req.url ?? ''] ?? 404).end('{}');
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('maps reachability to healthy, 429 to degraded, 5xx, timeouts and refused connections to down', async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const probe = httpProbe(200);
    const at = (path: string) => probe({ id: path, kind: 'openai_compatible', baseUrl: `${base}/${path}` });
    expect((await at('ok')).status).toBe('healthy'); // 401 without a key still proves the API answers
    expect(await at('busy')).toMatchObject({ status: 'degraded', error: 'HTTP 429' });
    expect(await at('broken')).toMatchObject({ status: 'down', error: 'HTTP 503' });
    expect(await at('slow')).toMatchObject({ status: 'down', error: 'timeout' });
    expect((await probe({ id: 'x', kind: 'openai_compatible', baseUrl: 'http://127.0.0.1:1' })).status).toBe('down');
  });
});
