import { createServer } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildJobsApp } from '../../functions/jobs/app.js';
import { buildJobsServices } from '../../functions/jobs/services.js';
import { aggregateUsage } from '../../functions/jobs/service/usage.js';
import { buildProvidersApp } from '../../functions/providers/app.js';
import { buildProvidersServices, type ProvidersServices } from '../../functions/providers/services.js';
import type { Database } from '../../functions/shared/db/database.js';
import { pgFromUrl } from '../../functions/shared/db/pg.js';
import { drainOutbox } from '../../functions/shared/events/drain.js';
import { openEventSink } from '../../functions/shared/events/index.js';
import type { EventSink } from '../../functions/shared/events/port.js';
import { setLogSink } from '../../functions/shared/http/logger.js';
import { startOpenAiUpstream } from '../fakes/openai-upstream.js';
import type { FakeUpstream } from '../fakes/upstream-core.js';
import { call, listen, testConfig, testKernel } from '../support/app.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant, type TestTenant } from '../support/tenants.js';

/**
 * Fault injection during a mixed gateway load (200 requests, 10 at a time): the gateway pool's
 * connections are terminated (pg_terminate_backend) twice mid-run, the upstream answers 5xx / 429 or
 * hangs past the timeout, clients disconnect mid-stream, and the event sink is down while a drain
 * runs. Afterwards: every 5xx carried the contract's error body, usage is neither lost nor counted
 * twice (Σ usage_tracking = Σ quota counters = Σ request_logs in the sink = Σ daily_usage, and at
 * least what clients were told they used), no reservation is stuck after the release job, and the
 * pool recovered (readyz 200, a plain call succeeds).
 */
const TOTAL = 200;
const CONCURRENCY = 10;
const GATEWAY_APP = 'lattice-chaos-gateway';
const PLATFORM_KEY = 'sk-platform-chaos-0123456789abcdef';

const { database, url } = await createTestDatabase();
let gatewayDb: Database;
let upstream: FakeUpstream;
let services: ProvidersServices;
let gateway: Awaited<ReturnType<typeof listen>>;
let jobs: ReturnType<typeof buildJobsApp>;
let sink: EventSink;
let users: TestTenant[];
let apiKey: string;
const logLines: string[] = [];
let previousSink: (line: string) => void;

beforeAll(async () => {
  previousSink = setLogSink((line) => logLines.push(line));
  upstream = await startOpenAiUpstream({ apiKey: PLATFORM_KEY });
  await database.pool!.query('UPDATE providers.providers SET base_url = $1 WHERE id = $2', [upstream.baseUrl, 'openai']);
  // The gateway gets a pool of its own, so terminating its connections spares the test's.
  gatewayDb = pgFromUrl(url, { max: 10, applicationName: GATEWAY_APP });
  services = await buildProvidersServices(testKernel(gatewayDb, { GATEWAY_UPSTREAM_TIMEOUT_MS: '800' }), {
    platformKeys: { openai: PLATFORM_KEY },
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
  });
  gateway = await listen(createServer(getRequestListener(buildProvidersApp(async () => services).fetch)));
  const a = await createTenant(database, { role: 'member' });
  const b = await createTenant(database, { role: 'admin' });
  users = [a, b, await createTenant(database, { role: 'viewer', orgId: b.orgId })];
  const created = await fetch(`${gateway.url}/api-keys`, { method: 'POST', headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'chaos' }) });
  expect(created.status).toBe(201);
  apiKey = ((await created.json()) as { key: string }).key;
  sink = await openEventSink(testConfig(), database);
  const jobServices = await buildJobsServices(testKernel(database), { verifyScheduler: async () => ({ email: 'scheduler@test' }), sink });
  jobs = buildJobsApp(async () => jobServices);
});

afterAll(async () => {
  setLogSink(previousSink);
  await gateway?.close();
  await upstream?.close();
  await gatewayDb?.close();
});

type Kind = 'json' | 'stream' | 'fail500' | 'fail429' | 'hang' | 'abort' | 'apikey';
const MIX: Kind[] = ['json', 'json', 'json', 'json', 'json', 'json', 'json', 'json', 'json', 'stream', 'stream', 'stream', 'stream', 'stream', 'stream', 'fail500', 'fail500', 'fail429', 'hang', 'abort', 'abort', 'abort', 'apikey', 'apikey', 'apikey'];

interface Outcome {
  kind: Kind;
  status: number;
  body: string;
  contentType: string | null;
  /** prompt + completion tokens the client was told about (a finished call only). */
  seenTokens: number;
}

async function one(i: number): Promise<Outcome> {
  const kind = MIX[i % MIX.length]!;
  const user = users[i % users.length]!;
  const directive = { fail500: '[[fail:500]]', fail429: '[[fail:429]]', hang: '[[hang]]', abort: '[[slow:15]] [[words:40]]' }[kind as string] ?? '';
  const stream = kind === 'stream' || kind === 'abort';
  const controller = new AbortController();
  const res = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    signal: controller.signal,
    headers: { authorization: `Bearer ${kind === 'apikey' ? apiKey : user.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'openai/gpt-4o-mini',
      max_tokens: 60,
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
      messages: [{ role: 'user', content: `${directive} chaos request ${i}`.trim() }],
    }),
  });
  const contentType = res.headers.get('content-type');
  if (kind === 'abort' && res.status === 200 && res.body) {
    // Read a few chunks, then hang up while the upstream is still producing.
    const reader = res.body.getReader();
    for (let chunks = 0; chunks < 3; chunks++) if ((await reader.read()).done) break;
    controller.abort();
    await reader.cancel().catch(() => undefined);
    return { kind, status: 200, body: '', contentType, seenTokens: 0 };
  }
  const body = await res.text();
  let seenTokens = 0;
  if (res.status === 200) {
    const usages = stream
      ? body.split('\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)).usage).filter(Boolean)
      : [JSON.parse(body).usage];
    for (const u of usages) seenTokens += u.prompt_tokens + u.completion_tokens;
  }
  return { kind, status: res.status, body, contentType, seenTokens };
}

const terminateGatewayConnections = async () =>
  (await database.pool!.query(`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`, [GATEWAY_APP])).rows[0].n as number;

const sums = async (orgIds: string[]) => {
  const q = async (text: string, params: unknown[] = [orgIds]) => Number((await database.pool!.query(text, params)).rows[0].n);
  return {
    usageTracking: await q(`SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) AS n FROM providers.usage_tracking WHERE org_id = ANY($1)`),
    usageRequests: await q(`SELECT coalesce(sum(requests), 0) AS n FROM providers.usage_tracking WHERE org_id = ANY($1)`),
    counters: await q(`SELECT coalesce(sum(tokens_used), 0) AS n FROM providers.quota_counters WHERE org_id = ANY($1) AND subject_type = 'user' AND period = 'daily'`),
    reserved: await q(`SELECT coalesce(sum(tokens_reserved), 0) AS n FROM providers.quota_counters WHERE org_id = ANY($1)`),
    openReservations: await q(`SELECT count(*) AS n FROM providers.quota_reservations WHERE org_id = ANY($1) AND state = 'reserved'`),
    requestLogs: await q(`SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) AS n FROM (SELECT DISTINCT ON (event_id) prompt_tokens, completion_tokens FROM analytics.request_logs WHERE org_id = ANY($1)) r`),
    requestLogRows: await q(`SELECT count(DISTINCT event_id) AS n FROM analytics.request_logs WHERE org_id = ANY($1)`),
    dailyUsage: await q(`SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) AS n FROM (SELECT DISTINCT ON (event_id) prompt_tokens, completion_tokens FROM analytics.daily_usage WHERE org_id = ANY($1)) d`),
  };
};

const job = async (path: string) => {
  const res = await call(jobs, 'POST', path, { token: 'scheduler-oidc' });
  expect(res.status, `${path}: ${res.text}`).toBe(200);
  return res.json;
};

describe('fault injection during a mixed gateway load', () => {
  it('keeps every answer well-formed, loses and double-counts no usage, leaves nothing stuck, recovers', async () => {
    const outcomes: Outcome[] = [];
    const failures: string[] = [];
    let next = 0;
    let terminated = 0;
    const kills = new Set([Math.floor(TOTAL * 0.3), Math.floor(TOTAL * 0.65)]);
    let sinkDown = 0;
    const brokenSink: EventSink = { ...sink, kind: sink.kind, send: async () => { sinkDown++; throw new Error('sink unavailable (injected outage)'); }, requestLogTotals: sink.requestLogTotals.bind(sink) };
    const outageDrain: Promise<unknown>[] = [];
    const worker = async () => {
      while (next < TOTAL) {
        const i = next++;
        if (kills.has(i)) terminated += await terminateGatewayConnections();
        if (i === Math.floor(TOTAL * 0.5)) outageDrain.push(drainOutbox(database, brokenSink, { maxBatches: 2, batchSize: 20 }));
        try {
          outcomes.push(await one(i));
        } catch (err) {
          failures.push(`request ${i}: ${(err as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await Promise.all(outageDrain);
    expect(terminated, 'gateway connections terminated').toBeGreaterThan(0);
    expect(sinkDown, 'drain attempts during the sink outage').toBeGreaterThan(0);
    expect(failures).toEqual([]);
    expect(outcomes).toHaveLength(TOTAL);

    // Every error, 5xx included, is the /v1 contract's body: OpenAI's error object beside the problem members.
    for (const o of outcomes.filter((x) => x.status >= 400)) {
      const body = JSON.parse(o.body || 'null');
      expect(o.contentType, `${o.kind} ${o.status}`).toMatch(/^application\/json/);
      expect(body, `${o.kind} ${o.status}: ${o.body.slice(0, 200)}`).toMatchObject({ error: { message: expect.any(String), type: expect.any(String) }, status: o.status, title: expect.any(String), instance: expect.any(String) });
    }
    const byKind = (k: Kind) => outcomes.filter((o) => o.kind === k);
    const statuses = Object.fromEntries(MIX.map((k) => [k, byKind(k).map((o) => o.status).join(' ')]));
    expect(byKind('fail500').every((o) => o.status >= 500), JSON.stringify(statuses)).toBe(true);
    expect(byKind('fail429').every((o) => o.status === 429 || o.status >= 500), JSON.stringify(statuses)).toBe(true);
    expect(byKind('hang').every((o) => o.status >= 500), JSON.stringify(statuses)).toBe(true);
    // A 500 may only come from the injected connection losses, never from the code itself (e.g. a deadlock).
    // Database errors are logged by SQLSTATE only (no message): 57P01-57P03 and class 08 are the injected terminations.
    const described = (e: any) => String(e?.message ?? (e?.database?.code ? `SQLSTATE ${e.database.code}` : undefined));
    const internal = logLines.filter((l) => l.includes('"unhandled error"')).map((l) => described(JSON.parse(l).error));
    const unexplained = internal.filter((m) => !/terminat|not queryable|connection|SQLSTATE (57P0[123]|08)/i.test(m));
    expect(unexplained, 'internal errors not caused by the injected faults').toEqual([]);
    expect(byKind('json').filter((o) => o.status === 200).length, 'plain calls served despite the faults').toBeGreaterThan(byKind('json').length / 2);

    // The pool recovered: readiness is healthy and a plain call goes through.
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    const after = await one(0);
    expect(after.status).toBe(200);
    outcomes.push(after);

    // Streams cut by the client settle in the background; let them finish, then let the release job
    // take whatever a terminated connection left reserved (expired first: the job only takes expired ones).
    await services.idle();
    await database.pool!.query(`UPDATE providers.quota_reservations SET expires_at = now() - interval '1 second' WHERE state = 'reserved'`);
    await job('/release-reservations');

    // The sink is back: the drain delivers everything (the outage's backoff is skipped, not waited for).
    await database.pool!.query(`UPDATE ops.outbox SET next_attempt_at = now() WHERE delivered_at IS NULL`);
    await job('/drain-outbox');
    const today = new Date().toISOString().slice(0, 10);
    const aggregated = await aggregateUsage(database, { sink, day: today }); // the route refuses a day not over yet
    await job('/drain-outbox');
    const undelivered = Number((await database.pool!.query(`SELECT count(*) AS n FROM ops.outbox WHERE delivered_at IS NULL`)).rows[0].n);
    expect(undelivered).toBe(0);

    const orgIds = [...new Set(users.map((u) => u.orgId))];
    const s = await sums(orgIds);
    const seen = outcomes.reduce((sum, o) => sum + o.seenTokens, 0);
    const aborted = byKind('abort').length;
    expect(s.openReservations, 'reservations still open after the release job').toBe(0);
    expect(s.reserved, 'tokens still reserved on the counters').toBe(0);
    expect(s.usageTracking).toBeGreaterThan(0);
    expect(s.counters, 'quota counters = usage_tracking').toBe(s.usageTracking);
    expect(s.requestLogs, 'Σ request_logs in the sink = usage_tracking').toBe(s.usageTracking);
    expect(s.requestLogRows, 'one request log per billed request').toBe(s.usageRequests);
    expect(s.dailyUsage, 'Σ daily_usage = usage_tracking').toBe(s.usageTracking);
    expect((aggregated as any).reconciliation.balanced).toBe(true);
    // Nothing a client was told about is lost; at most the cut streams' worth is billed beyond it.
    expect(s.usageTracking).toBeGreaterThanOrEqual(seen);
    expect(s.usageTracking).toBeLessThanOrEqual(seen + aborted * 60);

    // No secret reached a log line, even on the error paths.
    const secrets = [PLATFORM_KEY, apiKey, ...users.map((u) => u.token)];
    expect(logLines.filter((l) => secrets.some((sec) => l.includes(sec)))).toEqual([]);
  }, 120_000);
});
