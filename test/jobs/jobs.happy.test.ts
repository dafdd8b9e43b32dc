import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import type { AlertNotification } from '../../functions/shared/notify/index.js';
import { verifyAuditLog } from '../../functions/shared/audit/verify.js';
import { localSigner } from '../../functions/shared/audit/signer/local.js';
import { withSystem } from '../../functions/shared/db/tenant.js';
import { writeOutbox } from '../../functions/shared/events/outbox.js';
import { rowsOf } from '../../functions/shared/db/rows.js';
import { call, testConfig } from '../support/app.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant } from '../support/tenants.js';
import { jobsApp, startJwks } from '../support/jobs.js';

const { database } = await createTestDatabase();
const jwks = await startJwks();
afterAll(() => jwks.close());
const alerts: AlertNotification[] = [];
/** Which providers were probed, and a distinct latency per provider, so the job's bookkeeping can be checked. */
const probed: string[] = [];
const latencyOf = (id: string) => 10 + [...id].reduce((n, c) => n + c.charCodeAt(0), 0);
const app = jobsApp(database, jwks.url, {
  probe: async (target) => {
    probed.push(target.id);
    return { status: 'healthy', latencyMs: latencyOf(target.id) };
  },
  notifier: { notify: async (n) => void alerts.push(n) },
  signer: localSigner(testConfig().LOCAL_KEYRING!),
});
const q = async (text: string, params: unknown[] = []) => (await database.pool!.query(text, params)).rows;
const run = async (path: string) => {
  const res = await call(app, 'POST', path, { token: await jwks.token() });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  expect(res.json).toMatchObject({ job: path.slice(1).split('?')[0], status: 'succeeded', run_id: expect.any(String) });
  const [recorded] = await q(`select status, stats from ops.job_runs where id = $1`, [res.json.run_id]);
  expect(recorded).toEqual({ status: 'succeeded', stats: res.json.stats });
  return res.json.stats;
};
const today = () => new Date().toISOString().slice(0, 10);
const yesterday = () => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

describe('each job is idempotent: a second run leaves the same state', () => {
  it('drain-outbox', async () => {
    const ids = await withSystem(database, (tx) => writeOutbox(tx, [1, 2, 3].map((i) => ({ stream: 'domain_events' as const, payload: { type: 'test.drain', i } }))));
    const first = await run('/drain-outbox');
    expect(first.delivered).toBeGreaterThanOrEqual(3);
    expect((await run('/drain-outbox')).claimed).toBe(0);
    const stored = await q(`select count(*)::int as n from analytics.audit_events where event_id = any($1::uuid[])`, [ids]);
    expect(stored[0].n).toBe(3);
  });

  it('replay-parked: parked events go back to the queue and the next drain delivers them', async () => {
    const [id] = await withSystem(database, (tx) => writeOutbox(tx, { stream: 'domain_events', payload: { type: 'test.parked' } }));
    await q(`update ops.outbox set parked_at = now(), attempts = 10, last_error = 'poison' where event_id = $1`, [id]);
    expect(await run(`/replay-parked?event_ids=${id}`)).toEqual({ replayed: 1 });
    expect(await run(`/replay-parked?event_ids=${id}`)).toEqual({ replayed: 0 });
    await run('/drain-outbox');
    expect((await q(`select delivered_at is not null as delivered, attempts from ops.outbox where event_id = $1`, [id]))[0]).toEqual({ delivered: true, attempts: 1 });
  });

  it('aggregate-usage: deterministic daily_usage events and a reconciliation report', async () => {
    const a = await createTenant(database);
    const b = await createTenant(database);
    const day = yesterday();
    for (const [t, model, prompt] of [[a, 'm1', 100], [a, 'm2', 50], [b, 'm1', 10]] as const) {
      await q(`insert into providers.usage_tracking (org_id, user_id, provider, model, day, requests, prompt_tokens, completion_tokens, cost_micros) values ($1, $2, 'openai', $3, $4, 2, $5, 5, 99)`, [t.orgId, t.userId, model, day, prompt]);
    }
    // Request logs that agree for org a and miss one call for org b.
    const at = `${day}T12:00:00.000Z`;
    // [org, model, prompt, completion, cost]: a's logs add up to its usage_tracking; b's miss one call's count only.
    const entries: [typeof a, string, number, number, number][] = [
      [a, 'm1', 60, 3, 50], [a, 'm1', 40, 2, 49], [a, 'm2', 25, 3, 50], [a, 'm2', 25, 2, 49], [b, 'm1', 10, 5, 99],
    ];
    const logs = entries.map(([t, model, prompt, completion, cost]) => ({
      stream: 'request_logs' as const,
      orgId: t.orgId,
      occurredAt: new Date(at),
      payload: { request_id: randomUUID(), user_id: t.userId, provider: 'openai', model, prompt_tokens: prompt, completion_tokens: completion, cost_micros: cost, latency_ms: 1, status: 200, stream: false },
    }));
    await withSystem(database, (tx) => writeOutbox(tx, logs));
    await run('/drain-outbox');

    const first = await run(`/aggregate-usage?day=${day}`);
    expect(first).toMatchObject({ day, usage_rows: 3, emitted: 3, already_emitted: 0 });
    const rec = first.reconciliation;
    const mine = rec.mismatches.filter((m: { org_id: string }) => m.org_id === a.orgId || m.org_id === b.orgId);
    expect(mine).toEqual([
      { org_id: b.orgId, field: 'requests', usage_tracking: 2, request_logs: 1 },
    ]);
    const second = await run(`/aggregate-usage?day=${day}`);
    expect(second).toMatchObject({ day, usage_rows: 3, emitted: 0, already_emitted: 3 });
    expect(second.reconciliation).toEqual(rec);
    const events = await q(`select count(*)::int as n from ops.outbox where stream = 'daily_usage'`);
    expect(events[0].n).toBe(3);
  });

  it('aggregate-usage refuses a day that is not over', async () => {
    const res = await call(app, 'POST', `/aggregate-usage?day=${today()}`, { token: await jwks.token() });
    expect(res.status).toBe(400);
    expect(res.json.type).toMatch(/day-not-closed/);
  });

  it.each(['2024-02-30', '2023-13-01', '2024-00-10', '0000-01-01'])('aggregate-usage refuses the impossible day %s with 400', async (day) => {
    const res = await call(app, 'POST', `/aggregate-usage?day=${day}`, { token: await jwks.token() });
    expect(res.status).toBe(400);
    expect(res.json.type).toMatch(/invalid-day/);
  });

  it('provider-health: probes every enabled provider once per run and records each one\'s own result', async () => {
    const enabled = (await q(`select id from providers.providers where enabled order by id`)).map((r) => r.id as string);
    expect(enabled.length).toBeGreaterThan(1);
    await q(`update providers.providers set enabled = false where id = $1`, [enabled.at(-1)]);
    const probeThese = enabled.slice(0, -1);
    probed.length = 0;
    const first = await run('/provider-health');
    expect(probed.sort()).toEqual(probeThese);
    expect(first.providers).toBe(probeThese.length);
    // Stored per provider: the latency its own probe reported, not one value for all.
    const health = await q(`select provider_id, latency_ms from providers.provider_health where provider_id = any($1) order by provider_id`, [probeThese]);
    expect(health).toEqual(probeThese.map((id) => ({ provider_id: id, latency_ms: latencyOf(id) })));
    await run('/provider-health');
    const checks = await q(`select provider_id, count(*)::int as n from providers.provider_health_checks group by provider_id order by provider_id`);
    expect(checks).toEqual(probeThese.map((id) => ({ provider_id: id, n: 2 })));
    await q(`update providers.providers set enabled = true where id = $1`, [enabled.at(-1)]);
  });

  it('maintain-partitions: audit 3 months ahead, never a default partition', async () => {
    await run('/maintain-partitions');
    const again = await run('/maintain-partitions');
    expect(again).toMatchObject({ audit_partitions_created: 0, analytics_partitions_created: 0 });
    const parts = await q(`select c.relname, pg_get_expr(c.relpartbound, c.oid) as bound from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'audits.audit_log'::regclass`);
    expect(parts.some((p) => /DEFAULT/i.test(p.bound))).toBe(false);
    const ahead = new Date();
    ahead.setUTCMonth(ahead.getUTCMonth() + 3, 1);
    const name = `audit_log_y${ahead.getUTCFullYear()}m${String(ahead.getUTCMonth() + 1).padStart(2, '0')}`;
    expect(parts.map((p) => p.relname)).toContain(name);
  });

  it('cleanup: expired resets, invitations, artifacts and embedded sessions go; live and used ones stay', async () => {
    const t = await createTenant(database);
    const hash = () => randomBytes(32).toString('hex');
    await q(`insert into auth.password_resets (org_id, user_id, token_hash, expires_at) values ($1, $2, $3, now() - interval '1 hour'), ($1, $2, $4, now() + interval '1 hour')`, [t.orgId, t.userId, hash(), hash()]);
    await q(`insert into auth.invitations (org_id, code_hash, role, expires_at) values ($1, $2, 'member', now() - interval '1 day'), ($1, $3, 'member', now() + interval '1 day')`, [t.orgId, hash(), hash()]);
    await q(`insert into auth.invitations (org_id, code_hash, role, expires_at, used_at, used_by) values ($1, $2, 'member', now() - interval '1 day', now() - interval '2 days', $3)`, [t.orgId, hash(), t.userId]);
    await q(`insert into auth.sessions (org_id, user_id, family_id, token_hash, expires_at) values ($1, $2, gen_random_uuid(), $3, now() - interval '1 minute'), ($1, $2, gen_random_uuid(), $4, now() + interval '1 day')`, [t.orgId, t.userId, hash(), hash()]);
    const [project] = await q(`insert into projects.projects (org_id, name, slug) values ($1, 'p', $2) returning id`, [t.orgId, `p-${randomBytes(4).toString('hex')}`]);
    const [version] = await q(`insert into projects.versions (org_id, project_id, version_number, config, config_hash) values ($1, $2, 1, '{}', $3) returning id`, [t.orgId, project.id, hash()]);
    const [session] = await q(`insert into production.analysis_sessions (org_id, project_id, version_id) values ($1, $2, $3) returning id`, [t.orgId, project.id, version.id]);
    await q(`insert into production.artifacts (org_id, session_id, name, uri, sha256, size_bytes, expires_at) values ($1, $2, 'old', 'gs://b/old', $3, 1, now() - interval '1 day'), ($1, $2, 'new', 'gs://b/new', $3, 1, now() + interval '1 day')`, [t.orgId, session.id, hash()]);
    const first = await run('/cleanup');
    expect(first).toMatchObject({ password_resets: 1, invitations: 1, sessions: 1, artifacts: 1 });
    expect((await q(`select name from production.artifacts where session_id = $1`, [session.id])).map((r) => r.name)).toEqual(['new']);
    const second = await run('/cleanup');
    expect(Object.values(second).every((n) => n === 0)).toBe(true);
    const left = await q(`select (select count(*)::int from auth.password_resets where org_id = $1) as resets, (select count(*)::int from auth.invitations where org_id = $1) as invitations, (select count(*)::int from auth.sessions where org_id = $1) as sessions`, [t.orgId]);
    expect(left[0]).toEqual({ resets: 1, invitations: 2, sessions: 1 });
  });

  it('seal-audit: seals once, then finds nothing new; the log verifies', async () => {
    let first = await run('/seal-audit');
    expect(first.seals).toBeGreaterThanOrEqual(1);
    // The horizon is cluster-wide: a transaction still open elsewhere can leave recent rows for the next run.
    for (let i = 0; i < 5 && first.seals > 0; i++) first = await run('/seal-audit');
    const second = await run('/seal-audit');
    expect(second).toMatchObject({ seals: 0, rows: 0, head_seq: first.head_seq, head_hash: first.head_hash });
    expect(await verifyAuditLog(database, { signer: localSigner(testConfig().LOCAL_KEYRING!) })).toMatchObject({ ok: true });
  });

  it('release-reservations and cost-alerts', async () => {
    const t = await createTenant(database);
    const [counter] = await q(
      `insert into providers.quota_counters (org_id, subject_type, subject_id, period, period_start, tokens_used, tokens_reserved, token_limit) values ($1, 'org', $1, 'daily', $2, 80, 30, 100) returning id`,
      [t.orgId, today()],
    );
    await q(`insert into providers.quota_reservations (request_id, org_id, user_id, tokens_reserved, counter_ids, expires_at) values ($1, $2, $3, 30, array[$4::uuid], now() - interval '1 minute')`, [`req-${randomUUID()}`, t.orgId, t.userId, counter.id]);
    expect(await run('/release-reservations')).toEqual({ released: 1, leases_reclaimed: 0 });
    expect(await run('/release-reservations')).toEqual({ released: 0, leases_reclaimed: 0 });
    expect((await q(`select tokens_reserved::int from providers.quota_counters where id = $1`, [counter.id]))[0].tokens_reserved).toBe(0);

    await q(`insert into providers.cost_alerts (org_id, threshold_percent, period, metric, channel) values ($1, 50, 'daily', 'tokens', 'log')`, [t.orgId]);
    expect(await run('/cost-alerts')).toEqual({ fired: 1 });
    expect(await run('/cost-alerts')).toEqual({ fired: 0 });
    expect(alerts.filter((a) => a.org_id === t.orgId)).toEqual([expect.objectContaining({ threshold_percent: 50, used: 80, limit: 100 })]);
  });
});

describe('runs that would collide', () => {
  it('a second run of an exclusive job while one holds the lock is recorded as skipped', async () => {
    const holder = await database.pool!.connect();
    try {
      await holder.query(`select pg_advisory_lock(7243200, hashtext('seal-audit'))`);
      const res = await call(app, 'POST', '/seal-audit', { token: await jwks.token() });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ status: 'skipped', stats: { reason: expect.stringMatching(/in progress/) } });
    } finally {
      await holder.query(`select pg_advisory_unlock(7243200, hashtext('seal-audit'))`);
      holder.release();
    }
  });

  it('a failing job is recorded as failed and answers 500 so the scheduler retries', async () => {
    const broken = jobsApp(database, jwks.url, { sink: { kind: 'postgres', send: async () => ({ delivered: [], failed: [] }), requestLogTotals: async () => { throw new Error('sink unavailable'); } } });
    const res = await call(broken, 'POST', `/aggregate-usage?day=${yesterday()}`, { token: await jwks.token() });
    expect(res.status).toBe(500);
    expect(res.json).toMatchObject({ type: expect.stringMatching(/job-failed/), run_id: expect.any(String) });
    const [row] = await q(`select status, error from ops.job_runs where id = $1`, [res.json.run_id]);
    expect(row).toEqual({ status: 'failed', error: 'sink unavailable' });
  });
});
