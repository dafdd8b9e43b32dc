process.env.METADATA_SERVER_DETECTION ??= 'none';
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { settle } from '../../../functions/providers/service/quota.js';
import { localSigner } from '../../../functions/shared/audit/signer/local.js';
import { bigQueryEventSink } from '../../../functions/shared/events/bigquery.js';
import { drainOutbox } from '../../../functions/shared/events/drain.js';
import { rowsOf } from '../../../functions/shared/db/rows.js';
import { rowFor } from '../../../functions/shared/events/rows.js';
import { tableSchemas } from '../../../functions/shared/events/schemas.js';
import { startBigQueryFake } from '../../fakes/bigquery.js';
import { call, testConfig } from '../../support/app.js';
import { createTestDatabase } from '../../support/db.js';
import { createTenant } from '../../support/tenants.js';
import { writeProjects } from '../../support/audit.js';
import { jobsApp, startJwks } from '../../support/jobs.js';
import { projectsApp } from '../../support/projects.js';
import { approvedPromotion, ok, versionReadyForPromotion } from '../../support/lifecycle.js';

const { database } = await createTestDatabase();
const fake = await startBigQueryFake();
const jwks = await startJwks();
afterAll(async () => {
  await fake.close();
  await jwks.close();
});
const sink = bigQueryEventSink({ projectId: fake.projectId, dataset: 'lattice_events', apiEndpoint: fake.url, timeoutMs: 5_000 });
const q = async (text: string, params: unknown[] = []) => (await database.pool!.query(text, params)).rows;

describe('BigQuery schema files', () => {
  it.each(Object.keys(tableSchemas))('%s.json is well formed and matches analytics.%s column for column', async (table) => {
    const schema = tableSchemas[table as keyof typeof tableSchemas];
    for (const f of schema) {
      expect(f).toMatchObject({ name: expect.stringMatching(/^[a-z_]+$/), type: expect.stringMatching(/^(STRING|INTEGER|TIMESTAMP|DATE|BOOLEAN|JSON)$/), mode: expect.stringMatching(/^(REQUIRED|NULLABLE)$/) });
    }
    const columns = await q(`select column_name, is_nullable from information_schema.columns where table_schema = 'analytics' and table_name = $1 order by ordinal_position`, [table]);
    expect(schema.map((f) => f.name)).toEqual(columns.map((c) => c.column_name));
    const partitionColumn = table === 'daily_usage' ? 'day' : 'occurred_at';
    expect(schema.find((f) => f.name === partitionColumn)?.mode).toBe('REQUIRED');
  });
});

describe('every event the code emits validates against the schema files', () => {
  it('events of the jobs, the audit sealer and the gateway settle all land in BigQuery, none parked', async () => {
    const tenant = await createTenant(database);
    // Gateway: a settled call writes usage_tracking and its request_logs event.
    const requestId = `req-${randomUUID()}`;
    const yesterday = new Date(Date.now() - 86_400_000);
    await q(`insert into providers.quota_reservations (request_id, org_id, user_id, tokens_reserved, counter_ids, expires_at) values ($1, $2, $3, 10, '{}', now() + interval '1 minute')`, [requestId, tenant.orgId, tenant.userId]);
    await settle(database, tenant, { requestId, provider: 'openai', model: 'gpt-4o-mini', promptTokens: 3, completionTokens: 4, costMicros: 5, latencyMs: 6, status: 200, stream: true, keySource: 'platform', occurredAt: yesterday });
    // Audit rows to seal and export; provider health changes; daily usage.
    await writeProjects(database, tenant, 2);
    const app = jobsApp(database, jwks.url, { sink, signer: localSigner(testConfig().LOCAL_KEYRING!), probe: async (t) => ({ status: t.id === 'openai' ? 'down' : 'healthy', latencyMs: 1 }) });
    const token = await jwks.token();
    for (let i = 0; i < 3; i++) expect((await call(app, 'POST', '/provider-health', { token })).status).toBe(200);
    expect((await call(app, 'POST', '/seal-audit', { token })).status).toBe(200);
    const day = yesterday.toISOString().slice(0, 10);
    const before = await call(app, 'POST', `/aggregate-usage?day=${day}`, { token });
    expect(before.status).toBe(200);
    // The request log is still in the outbox: reconciliation says so instead of crying wolf.
    expect(before.json.stats.reconciliation).toMatchObject({ balanced: false, request_logs_pending_in_outbox: 1, usage_tracking: { requests: 1, prompt_tokens: 3 } });

    const outbox = rowsOf(await database.db.execute(sql`select event_id, stream, org_id, occurred_at, payload from ops.outbox`));
    const streams = new Set(outbox.map((r) => r.stream));
    expect([...streams].sort()).toEqual(['audit_events', 'daily_usage', 'domain_events', 'request_logs']);
    for (const r of outbox) {
      const { errors } = rowFor({ eventId: r.event_id as string, stream: r.stream as never, orgId: r.org_id as string | null, occurredAt: new Date(r.occurred_at as string), payload: r.payload as Record<string, unknown> });
      expect(errors, `${r.stream} ${JSON.stringify(r.payload)}`).toEqual([]);
    }

    // The fake checks rows against the schema files on its own; nothing may be refused.
    const stats = await drainOutbox(database, sink);
    expect(stats).toMatchObject({ failed: 0, parked: 0, delivered: outbox.length });
    expect(fake.unique('request_logs').map((r) => r.request_id)).toEqual([requestId]);
    expect(fake.unique('daily_usage')).toEqual([expect.objectContaining({ org_id: tenant.orgId, requests: 1, prompt_tokens: 3 })]);
    expect(fake.unique('audit_events').some((r) => r.action === 'provider.health_changed')).toBe(true);

    // Reconciliation through BigQuery (jobs.query on the fake): now the request log is there, the day balances.
    const after = await call(app, 'POST', `/aggregate-usage?day=${day}`, { token });
    expect(after.json.stats).toMatchObject({ emitted: 0, already_emitted: 1, reconciliation: { balanced: true, request_logs_pending_in_outbox: 0, request_logs: { requests: 1, prompt_tokens: 3, completion_tokens: 4, cost_micros: 5 } } });
    expect(fake.calls.query).toBeGreaterThanOrEqual(2);
  });
});

describe('the projects function\'s domain events validate against the schema files', () => {
  it('promotion, zone change, session, blacklist, quarantine, re-evaluation and rollback events land in BigQuery, none parked', async () => {
    const member = await createTenant(database, { role: 'member' });
    const admin1 = await createTenant(database, { role: 'admin', orgId: member.orgId });
    const admin2 = await createTenant(database, { role: 'admin', orgId: member.orgId });
    const { api } = projectsApp(database);
    const { project, version, evaluation } = await versionReadyForPromotion(api, member);
    await ok(api('POST', `/projects/${project.id}/validations`, member.token, { kind: 'schema', result: 'failed' }), 201);
    const checkpoint = await ok(api('POST', `/projects/${project.id}/checkpoints`, member.token, { reason: 'cp' }), 201);
    const promotion = await approvedPromotion(api, admin1, admin2, version.id, evaluation.id);
    await ok(api('POST', `/promotions/${promotion.id}/apply`, admin1.token));
    const session = await ok(api('POST', `/projects/${project.id}/analysis-sessions`, member.token, { version_id: version.id }), 201);
    const task = await ok(api('POST', `/analysis-sessions/${session.id}/tasks`, member.token, { type: 'static' }), 201);
    await ok(api('POST', `/analysis-sessions/${session.id}/tasks/${task.id}/transition`, member.token, { status: 'running' }));
    const banned = await ok(api('POST', '/blacklist', admin2.token, { config_hash: version.config_hash, reason: 'leaked "quotes" and ünïcode' }), 201);
    const reeval = await ok(api('POST', `/quarantine/${banned.quarantined[0].id}/reevaluations`, member.token, { reason: 'fixed' }), 201);
    await ok(api('POST', `/reevaluations/${reeval.id}/approve`, admin1.token));
    await ok(api('POST', `/projects/${project.id}/checkpoints/${checkpoint.id}/rollback`, admin1.token, { reason: 'back' }));

    const outbox = (await q(`select event_id, stream, org_id, occurred_at, payload from ops.outbox where org_id = $1 and delivered_at is null`, [member.orgId])) as { event_id: string; stream: string; org_id: string; occurred_at: Date; payload: Record<string, unknown> }[];
    const types = new Set(outbox.map((r) => r.payload.type));
    for (const t of ['project.created', 'project.status_changed', 'version.created', 'version.zone_changed', 'promotion.applied', 'analysis_session.status_changed', 'config.blacklisted', 'quarantine.recorded', 'reevaluation.decided', 'checkpoint.rolled_back']) {
      expect(types, t).toContain(t);
    }
    for (const r of outbox) {
      const { errors } = rowFor({ eventId: r.event_id, stream: r.stream as never, orgId: r.org_id, occurredAt: new Date(r.occurred_at), payload: r.payload });
      expect(errors, `${r.stream} ${JSON.stringify(r.payload)}`).toEqual([]);
    }
    const stats = await drainOutbox(database, sink);
    expect(stats).toMatchObject({ failed: 0, parked: 0 });
    const landed = fake.unique('audit_events').filter((r) => r.org_id === member.orgId);
    expect(landed.length).toBe(outbox.length);
    expect(landed.find((r) => r.action === 'checkpoint.rolled_back')).toMatchObject({ actor_id: admin1.userId });
  });
});
