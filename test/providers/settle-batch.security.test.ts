import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { releaseExpiredReservations } from '../../functions/providers/service/maintenance.js';
import { periodsAt, requestLogEventId, requestLogPayload, reserve, type Settlement } from '../../functions/providers/service/quota.js';
import { appRoleSql, tenantSql } from '../../functions/shared/db/round-trip.js';
import { createLogger } from '../../functions/shared/http/logger.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant, type TestTenant } from '../support/tenants.js';

/**
 * providers.settle_batch (migration 0010) settles calls of several tenants in one statement, run as the
 * application role with no org set. What keeps that safe and exact:
 * - without an org, row-level security shows the role no tenant row: the function is its only door;
 * - the function settles a request id only for the org AND user its reservation was made for, and writes
 *   usage and request logs under the reservation's org and user, whatever the caller claims;
 * - a retried batch, or the same call twice in one batch, bills nothing twice;
 * - many calls of one user, model and day are summed into one usage row and one delta per counter.
 */
const { database } = await createTestDatabase();

type Tenant = Pick<TestTenant, 'orgId' | 'userId'>;

async function reserved(t: Tenant, tokens = 500): Promise<string> {
  const requestId = randomUUID();
  await reserve(database, t, periodsAt(new Date()), { requestId, tokens, costMicros: 1_000, ttlSeconds: 600 });
  return requestId;
}

function item(t: Tenant, requestId: string, prompt: number, completion: number, model = 'gpt-4o-mini') {
  const occurredAt = new Date();
  const s: Settlement = { requestId, provider: 'openai', model, promptTokens: prompt, completionTokens: completion, costMicros: prompt + completion, latencyMs: 3, status: 200, stream: false, keySource: 'platform' };
  return {
    request_id: requestId, org_id: t.orgId, user_id: t.userId, provider: s.provider, model, day: periodsAt(occurredAt).day,
    prompt_tokens: prompt, completion_tokens: completion, cost_micros: s.costMicros, event_id: requestLogEventId(requestId),
    occurred_at: occurredAt.toISOString(), payload: requestLogPayload(s, occurredAt),
  };
}

const settleBatch = (items: unknown[]) => appRoleSql(database, (q) =>
  q.query<{ request_id: string; settled: boolean; alerts: boolean }>('select request_id, settled, alerts from providers.settle_batch($1::jsonb)', [JSON.stringify(items)], { last: true }));

const one = async (text: string, params: unknown[]) => (await database.pool!.query(text, params)).rows[0];

async function state(t: Tenant) {
  return {
    counter: await one(`SELECT tokens_used::int AS used, tokens_reserved::int AS reserved FROM providers.quota_counters WHERE subject_type = 'user' AND subject_id = $1 AND period = 'daily'`, [t.userId]),
    orgCounter: await one(`SELECT tokens_used::int AS used, tokens_reserved::int AS reserved FROM providers.quota_counters WHERE subject_type = 'org' AND subject_id = $1 AND period = 'monthly'`, [t.orgId]),
    usage: (await database.pool!.query(`SELECT model, requests::int, prompt_tokens::int AS prompt, completion_tokens::int AS completion FROM providers.usage_tracking WHERE user_id = $1 ORDER BY model`, [t.userId])).rows,
    logs: Number((await one(`SELECT count(*) AS n FROM ops.outbox WHERE stream = 'request_logs' AND org_id = $1`, [t.orgId])).n),
  };
}

describe('the cross-tenant settle batch', () => {
  it('runs as the application role with no org: no tenant row is visible or writable outside the function', async () => {
    const a = await createTenant(database, { role: 'member' });
    await reserved(a);
    const seen = await appRoleSql(database, (q) => q.query<{ r: string; c: string; u: string }>(
      `SELECT (SELECT count(*) FROM providers.quota_reservations) AS r, (SELECT count(*) FROM providers.quota_counters) AS c, (SELECT count(*) FROM providers.usage_tracking) AS u`, [], { last: true }));
    expect(seen).toEqual([{ r: '0', c: '0', u: '0' }]);
    await expect(appRoleSql(database, (q) => q.query(`UPDATE providers.quota_counters SET tokens_used = 0 RETURNING id`, [], { last: true }))).resolves.toEqual([]);
    await expect(appRoleSql(database, (q) => q.query(`INSERT INTO providers.usage_tracking (org_id, user_id, provider, model, day) VALUES ($1::uuid, $2::uuid, 'x', 'y', current_date)`, [a.orgId, a.userId], { last: true })))
      .rejects.toThrow(/row-level security/);
  });

  it("settles nothing for a request id claimed under another org or user, and never writes under the caller's claim", async () => {
    const a = await createTenant(database, { role: 'member' });
    const b = await createTenant(database, { role: 'member' });
    const aMate = await createTenant(database, { role: 'member', orgId: a.orgId });
    const id = await reserved(a);
    const before = await state(a);
    const refused = await settleBatch([item(b, id, 10, 10), item({ orgId: a.orgId, userId: aMate.userId }, id, 10, 10), item({ orgId: b.orgId, userId: a.userId }, id, 10, 10)]);
    // One answer per distinct request id; the three claims are all wrong, so none settles.
    expect(refused).toEqual([{ request_id: id, settled: false, alerts: false }]);
    expect(await state(a)).toEqual(before);
    expect(await state(b)).toMatchObject({ usage: [], logs: 0 });
    expect((await one(`SELECT state FROM providers.quota_reservations WHERE request_id = $1`, [id])).state).toBe('reserved');
    // An unknown request id changes nothing either.
    expect(await settleBatch([item(a, randomUUID(), 5, 5)])).toMatchObject([{ settled: false }]);
    expect(await settleBatch([item(a, id, 10, 10)])).toEqual([{ request_id: id, settled: true, alerts: false }]);
  });

  it('two tenants in one batch: each billed exactly, usage summed per (user, model, day), counters moved once per call, a retried batch changes nothing', async () => {
    const a = await createTenant(database, { role: 'member' });
    const b = await createTenant(database, { role: 'member' });
    const aIds = [await reserved(a), await reserved(a), await reserved(a)];
    const bIds = [await reserved(b), await reserved(b)];
    const batch = [
      item(a, aIds[0]!, 10, 20), item(a, aIds[1]!, 1, 2), item(a, aIds[2]!, 100, 0, 'gpt-4o'),
      item(b, bIds[0]!, 7, 7), item(b, bIds[1]!, 3, 4),
      item(a, aIds[0]!, 10, 20), // the same call twice in one batch
    ];
    const first = await settleBatch(batch);
    expect(first.filter((r) => r.settled).map((r) => r.request_id).sort()).toEqual([...aIds, ...bIds].sort());
    const afterA = await state(a);
    expect(afterA.counter).toEqual({ used: 133, reserved: 0 });
    expect(afterA.orgCounter).toEqual({ used: 133, reserved: 0 });
    expect(afterA.usage).toEqual([{ model: 'gpt-4o', requests: 1, prompt: 100, completion: 0 }, { model: 'gpt-4o-mini', requests: 2, prompt: 11, completion: 22 }]);
    expect(afterA.logs).toBe(3);
    const afterB = await state(b);
    expect(afterB).toEqual({ counter: { used: 21, reserved: 0 }, orgCounter: { used: 21, reserved: 0 }, usage: [{ model: 'gpt-4o-mini', requests: 2, prompt: 10, completion: 11 }], logs: 2 });

    // The commit's answer was lost, the batch is sent again: nothing moves.
    const again = await settleBatch(batch);
    expect(again.every((r) => !r.settled)).toBe(true);
    expect(await state(a)).toEqual(afterA);
    expect(await state(b)).toEqual(afterB);
  });

  it('a reservation the expiry job released first is still billed, and nothing is un-reserved twice', async () => {
    const a = await createTenant(database, { role: 'member' });
    const id = await reserved(a, 300);
    await database.pool!.query(`UPDATE providers.quota_reservations SET expires_at = now() - interval '1 second' WHERE request_id = $1`, [id]);
    expect((await releaseExpiredReservations(database, createLogger())).released).toBeGreaterThanOrEqual(1);
    expect((await state(a)).counter).toEqual({ used: 0, reserved: 0 });
    expect(await settleBatch([item(a, id, 40, 2)])).toMatchObject([{ settled: true }]);
    expect(await state(a)).toMatchObject({ counter: { used: 42, reserved: 0 }, logs: 1 });
  });

  it('reports cost alerts for the callers that have them, after settling', async () => {
    const a = await createTenant(database, { role: 'admin' });
    await tenantSql(database, a, (q) => q.query(`INSERT INTO providers.cost_alerts (org_id, threshold_percent, period, metric, channel) VALUES ($1::uuid, 50, 'daily', 'tokens', 'log')`, [a.orgId], { last: true }));
    const b = await createTenant(database, { role: 'member' });
    const [ia, ib] = [await reserved(a), await reserved(b)];
    const rows = await settleBatch([item(a, ia, 1, 1), item(b, ib, 1, 1)]);
    expect(new Map(rows.map((r) => [r.request_id, r.alerts]))).toEqual(new Map([[ia, true], [ib, false]]));
  });
});
