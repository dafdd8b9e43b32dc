import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reclaimExpiredLeases, releaseExpiredReservations } from '../../functions/providers/service/maintenance.js';
import { createLogger, setLogSink } from '../../functions/shared/http/logger.js';
import { startOpenAiUpstream } from '../fakes/openai-upstream.js';
import type { FakeUpstream } from '../fakes/upstream-core.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant, type TestTenant } from '../support/tenants.js';
import { setLimits } from '../support/gateway.js';

/**
 * The settle durability statement (README "Billing durability"), proved on a real instance process:
 * - SIGKILL under load: every call the client got an answer for is either billed exactly once (what
 *   the upstream reported, in usage_tracking, the counters and the request log alike) or still holds
 *   its reservation (at least what it used: no overspend) until the expiry job releases it and
 *   reports it by request id; afterwards counters = usage_tracking = request logs.
 * - SIGTERM under load: the in-flight calls finish, every queued settle is committed before the
 *   process exits, nothing is left for the expiry job.
 * The instances batch by 5 and never by time (SETTLE_MAX_WAIT_MS of 10 minutes, no flush when idle), so
 * which settles sit in the queue at the signal follows from the call count alone, not from timing.
 * Both ways of holding quota are proved: reservation rows (GATEWAY_QUOTA_LEASES=off) and quota leases
 * (the default), whose calls reserve no row before going upstream: their journal rows ('leased',
 * written within SETTLE_JOURNAL_WAIT_MS, 1 ms here, of each call being served) are what the expiry job
 * reports them by, and their allowance comes back when the killed instance's leases expire.
 */
const here = dirname(fileURLToPath(import.meta.url));
const CHILD = join(here, '..', 'support', 'reliability', 'gateway-process.ts');
const ROOT = join(here, '..', '..');
const PLATFORM_KEY = 'sk-platform-settle-kill-0123456789abcdef';
const BATCH = 5;

const { database, url } = await createTestDatabase();
let upstream: FakeUpstream;
const children: ChildProcess[] = [];
type Mode = 'reservations' | 'leases';
const MODES: Mode[] = ['reservations', 'leases'];
/** One instance per test, all started together (a process start is most of this file's time). */
const toKill = {} as Record<Mode, Instance>;
const toTerminate = {} as Record<Mode, Instance>;
/** The state an unsettled call's row is in. */
const held = (mode: Mode) => (mode === 'leases' ? 'leased' : 'reserved');

interface Instance {
  url: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

async function startInstance(mode: Mode): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: ROOT,
    env: {
      ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', DATABASE_URL: url, PROVIDER_KEY_OPENAI: PLATFORM_KEY,
      SETTLE_MAX_BATCH: String(BATCH), SETTLE_MAX_WAIT_MS: '600000', SETTLE_IDLE_FLUSH: '0', SETTLE_JOURNAL_WAIT_MS: '1',
      GATEWAY_QUOTA_LEASES: mode === 'leases' ? 'on' : 'off',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  // Both pipes are read to the end: a full pipe would block the child's writes.
  child.stderr!.on('data', (d) => (output += String(d)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      output += String(d);
      const m = /READY (\d+)/.exec(output);
      if (m) resolve(Number(m[1]));
    });
    void exited.then(({ code }) => reject(new Error(`gateway process exited with ${code}: ${output.slice(-2000)}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child, exited, output: () => output };
}

interface Answered {
  requestId: string;
  /** prompt + completion tokens the upstream reported to the client. */
  told: number;
}

/** One call; resolves to what the client was answered (the headers once sent, the body when read). */
async function send(instance: Instance, tenant: TestTenant, i: number, directive = '') {
  const stream = i % 2 === 1;
  const res = await fetch(`${instance.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'openai/gpt-4o-mini', max_tokens: 50, stream, ...(stream ? { stream_options: { include_usage: true } } : {}),
      messages: [{ role: 'user', content: `${directive} settle durability call ${i}`.trim() }],
    }),
  });
  return {
    status: res.status,
    async answered(): Promise<Answered> {
      const text = await res.text();
      expect(res.status, text.slice(0, 300)).toBe(200);
      const usages = stream
        ? text.split('\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)).usage).filter(Boolean)
        : [JSON.parse(text).usage];
      expect(usages).toHaveLength(1);
      return { requestId: res.headers.get('x-gateway-request-id')!, told: usages[0].prompt_tokens + usages[0].completion_tokens };
    },
  };
}

/** `count` calls, `concurrency` at a time, each read to its end. */
async function load(instance: Instance, tenant: TestTenant, from: number, count: number, concurrency = 4): Promise<Answered[]> {
  const out: Answered[] = [];
  let next = from;
  const worker = async () => {
    while (next < from + count) out.push(await (await send(instance, tenant, next++)).answered());
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

const n = async (text: string, params: unknown[]) => Number((await database.pool!.query(text, params)).rows[0].n);

async function reservations(requestIds: string[]) {
  const { rows } = await database.pool!.query<{ request_id: string; state: string; used: number; reserved: number }>(
    `SELECT request_id, state, tokens_used::int AS used, tokens_reserved::int AS reserved FROM providers.quota_reservations WHERE request_id = ANY($1)`, [requestIds]);
  return new Map(rows.map((r) => [r.request_id, r]));
}

async function totals(orgId: string) {
  return {
    usageTracking: await n(`SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) AS n FROM providers.usage_tracking WHERE org_id = $1`, [orgId]),
    usageRequests: await n(`SELECT coalesce(sum(requests), 0) AS n FROM providers.usage_tracking WHERE org_id = $1`, [orgId]),
    counterUsed: await n(`SELECT tokens_used AS n FROM providers.quota_counters WHERE org_id = $1 AND subject_type = 'user' AND period = 'daily'`, [orgId]),
    counterReserved: await n(`SELECT tokens_reserved AS n FROM providers.quota_counters WHERE org_id = $1 AND subject_type = 'user' AND period = 'daily'`, [orgId]),
    counterLeased: await n(`SELECT tokens_leased AS n FROM providers.quota_counters WHERE org_id = $1 AND subject_type = 'user' AND period = 'daily'`, [orgId]),
    requestLogs: await n(`SELECT coalesce(sum((payload->>'prompt_tokens')::int + (payload->>'completion_tokens')::int), 0) AS n FROM ops.outbox WHERE stream = 'request_logs' AND org_id = $1`, [orgId]),
    requestLogRows: await n(`SELECT count(*) AS n FROM ops.outbox WHERE stream = 'request_logs' AND org_id = $1`, [orgId]),
    open: await n(`SELECT count(*) AS n FROM providers.quota_reservations WHERE org_id = $1 AND state IN ('reserved', 'leased')`, [orgId]),
  };
}

/** Waits (polling the database, bounded) until `count` of the org's reservation rows are in `state`. */
async function rowsIn(orgId: string, state: string, count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const got = await n(`SELECT count(*) AS n FROM providers.quota_reservations WHERE org_id = $1 AND state = $2`, [orgId, state]);
    if (got >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${got} of ${count} ${state}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sum = (calls: Answered[]) => calls.reduce((s, c) => s + c.told, 0);

beforeAll(async () => {
  upstream = await startOpenAiUpstream({ apiKey: PLATFORM_KEY });
  await database.pool!.query('UPDATE providers.providers SET base_url = $1 WHERE id = $2', [upstream.baseUrl, 'openai']);
  await Promise.all(MODES.map(async (mode) => {
    [toKill[mode], toTerminate[mode]] = await Promise.all([startInstance(mode), startInstance(mode)]);
  }));
}, 90_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await upstream?.close();
});

describe.each(MODES)('settle durability when the instance dies (%s)', (mode) => {
  it('SIGKILL under load: each answered call is billed once or reported by the expiry job, never overspent; the sums agree', async () => {
    const t = await createTenant(database, { role: 'member' });
    // A limit far above this test's use: calls hold real quota (an unlimited counter is never leased).
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: 1_000_000 });
    const instance = toKill[mode];

    // 4 full batches: committed while the instance runs.
    const early = await load(instance, t, 0, 4 * BATCH);
    await rowsIn(t.orgId, 'settled', early.length);
    // 13 more answered (2 full batches, 3 left in the queue) while 3 calls hang on the upstream: then SIGKILL.
    const hanging = [0, 1, 2].map((k) => send(instance, t, 1000 + k, '[[hang]]').then(() => 'answered', () => 'cut'));
    const late = await load(instance, t, 100, 2 * BATCH + 3);
    // Leased calls: the kill comes once their journal rows committed (the 3 queued settles' and the 3
    // hanging calls'): what the durability statement covers. A call served within the last journal
    // window before a kill is the one case nothing reports (settle-batcher.ts).
    if (mode === 'leases') await rowsIn(t.orgId, 'leased', 6);
    instance.child.kill('SIGKILL');
    expect(await instance.exited).toMatchObject({ signal: 'SIGKILL' });
    expect(await Promise.all(hanging)).toEqual(['cut', 'cut', 'cut']);

    const answered = [...early, ...late];
    const rows = await reservations(answered.map((a) => a.requestId));
    const billed = answered.filter((a) => rows.get(a.requestId)?.state === 'settled');
    const lost = answered.filter((a) => rows.get(a.requestId)?.state === held(mode));
    expect(billed.length + lost.length, 'every answered call has its row, settled or still held').toBe(answered.length);
    expect(lost.length, 'the settles queued at the kill').toBeGreaterThanOrEqual(3);
    expect(billed.length).toBeGreaterThanOrEqual(early.length);
    for (const a of billed) expect(rows.get(a.requestId)!.used, 'billed what the upstream reported').toBe(a.told);
    // No overspend: an unsettled call still holds at least what it used (its reservation, or the lease
    // it was served from), so the limits saw all of it.
    for (const a of lost) expect(rows.get(a.requestId)!.reserved).toBeGreaterThanOrEqual(a.told);
    const before = await totals(t.orgId);
    expect(before.counterUsed + before.counterReserved + before.counterLeased).toBeGreaterThanOrEqual(sum(answered));
    expect(before.counterUsed).toBe(sum(billed));
    if (mode === 'leases') expect(before.counterReserved, 'leased calls reserve no row').toBe(0);

    // The expiry job (rows and leases made to look expired) releases and reports each unsettled call,
    // and gives the killed instance's leases back.
    await database.pool!.query(`UPDATE providers.quota_reservations SET expires_at = now() - interval '1 second' WHERE org_id = $1 AND state = $2`, [t.orgId, held(mode)]);
    await database.pool!.query(`UPDATE providers.quota_leases SET serve_until = now() - interval '2 seconds', expires_at = now() - interval '1 second' WHERE org_id = $1`, [t.orgId]);
    const reported: any[] = [];
    const previous = setLogSink((line) => reported.push(JSON.parse(line)));
    let result: { released: number };
    try {
      result = await releaseExpiredReservations(database, createLogger({ function: 'jobs' }));
      await reclaimExpiredLeases(database);
    } finally {
      setLogSink(previous);
    }
    const reports = reported.filter((l) => l.message === 'reservation expired unsettled: call not billed');
    const reportedIds = reports.map((l) => l.gatewayRequestId);
    expect(new Set(reports.map((l) => l.from))).toEqual(new Set([mode === 'leases' ? 'quota lease' : 'reservation']));
    expect(result.released, 'the lost answered calls and the 3 cut in flight').toBe(lost.length + 3);
    expect(reportedIds).toHaveLength(result.released);
    expect(reportedIds).toEqual(expect.arrayContaining(lost.map((a) => a.requestId)));
    expect(reportedIds.filter((id) => billed.some((a) => a.requestId === id)), 'a billed call is never reported lost').toEqual([]);

    const after = await totals(t.orgId);
    expect(after.open).toBe(0);
    expect(after.counterReserved).toBe(0);
    expect(after.counterLeased).toBe(0);
    expect(after.usageTracking, 'usage_tracking = what the upstream reported for the billed calls').toBe(sum(billed));
    expect(after.counterUsed, 'counters = usage_tracking').toBe(after.usageTracking);
    expect(after.requestLogs, 'request logs = usage_tracking').toBe(after.usageTracking);
    expect(after.requestLogRows).toBe(billed.length);
    expect(after.usageRequests).toBe(billed.length);
  }, 60_000);

  it('SIGTERM under load: in-flight calls finish, every queued settle is committed before exit, nothing is lost', async () => {
    const t = await createTenant(database, { role: 'member' });
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: 1_000_000 });
    const instance = toTerminate[mode];

    // 12 answered (2 full batches, 2 queued), and 2 slow streams still producing when SIGTERM arrives.
    const first = await load(instance, t, 0, 2 * BATCH + 2);
    const slow = await Promise.all([1, 3].map((k) => send(instance, t, 200 + k, '[[slow:40]] [[words:10]]')));
    expect(slow.map((s) => s.status)).toEqual([200, 200]);
    instance.child.kill('SIGTERM');
    const streamed = await Promise.all(slow.map((s) => s.answered()));
    expect(await instance.exited, instance.output().slice(-2000)).toMatchObject({ code: 0 });

    const answered = [...first, ...streamed];
    const rows = await reservations(answered.map((a) => a.requestId));
    for (const a of answered) expect(rows.get(a.requestId), a.requestId).toMatchObject({ state: 'settled', used: a.told });
    const after = await totals(t.orgId);
    expect(after.open, 'nothing left for the expiry job').toBe(0);
    expect(after.counterReserved).toBe(0);
    expect(after.counterLeased, 'leases given back at SIGTERM').toBe(0);
    expect(after.usageTracking).toBe(sum(answered));
    expect(after.counterUsed).toBe(after.usageTracking);
    expect(after.requestLogs).toBe(after.usageTracking);
    expect(after.requestLogRows).toBe(answered.length);
  }, 60_000);
});
