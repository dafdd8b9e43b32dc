import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { periodsAt, reserveIn, reserveTx, settle } from '../../functions/providers/service/quota.js';
import { releaseExpiredReservations } from '../../functions/providers/service/maintenance.js';
import { HttpProblem } from '../../functions/shared/http/index.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant } from '../support/tenants.js';
import { startGatedUpstream, type GatedUpstream } from '../fakes/gated-upstream.js';
import { pointCatalog, setLimits, settled, startGateway, usageTotals, type Gateway } from '../support/gateway.js';

// 40 connections: 32 clients really run in parallel on PostgreSQL.
const { database } = await createTestDatabase({ poolMax: 40 });

async function counters(userId: string) {
  const { rows } = await database.pool!.query(
    `SELECT sum(tokens_used)::int AS used, sum(tokens_reserved)::int AS reserved FROM providers.quota_counters WHERE subject_type = 'user' AND subject_id = $1 AND period = 'daily'`,
    [userId],
  );
  return rows[0] as { used: number; reserved: number };
}

describe('reserve: one conditional statement, exact under 32 concurrent clients', () => {
  it('never admits past the limit, admits exactly up to it, and settles to the real usage once', async () => {
    const t = await createTenant(database, { role: 'member' });
    const LIMIT = 1000;
    const SIZE = 70; // 32 × 70 = 2240 wanted, room for 14
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: LIMIT });
    const tenant = { orgId: t.orgId, userId: t.userId };
    const periods = periodsAt(new Date());
    const ids = Array.from({ length: 32 }, () => randomUUID());
    const results = await Promise.allSettled(
      ids.map((requestId) => reserveTx(database, tenant, periods, (q) => reserveIn(q, tenant, periods, { requestId, tokens: SIZE, costMicros: 0, ttlSeconds: 60 }))),
    );
    const admitted = ids.filter((_, i) => results[i]!.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(refused.every((r) => r.reason instanceof HttpProblem && r.reason.status === 429)).toBe(true);
    expect(admitted.length * SIZE).toBeLessThanOrEqual(LIMIT);
    expect(admitted.length * SIZE).toBeGreaterThan(LIMIT - SIZE); // no false 429 while there was room
    expect(await counters(t.userId)).toEqual({ used: 0, reserved: admitted.length * SIZE });
    expect(refused[0]!.reason.extra.limit).toMatchObject({ subject: 'user', period: 'daily', metric: 'tokens', limit: LIMIT });

    // Settle with the real (smaller) usage: reserved → used, and a retried settle changes nothing.
    const real = (i: number) => 40 + (i % 5);
    const settle1 = await Promise.all(admitted.map((requestId, i) => settle(database, tenant, {
      requestId, provider: 'openai', model: 'gpt-4o-mini', promptTokens: 30, completionTokens: real(i) - 30, costMicros: 0, latencyMs: 1, status: 200, stream: false, keySource: 'platform',
    })));
    expect(settle1.every(Boolean)).toBe(true);
    const expectedUsed = admitted.reduce((sum, _, i) => sum + real(i), 0);
    expect(await counters(t.userId)).toEqual({ used: expectedUsed, reserved: 0 });
    const again = await Promise.all(admitted.map((requestId) => settle(database, tenant, {
      requestId, provider: 'openai', model: 'gpt-4o-mini', promptTokens: 30, completionTokens: 99, costMicros: 0, latencyMs: 1, status: 200, stream: false, keySource: 'platform',
    })));
    expect(again.some(Boolean)).toBe(false);
    expect(await counters(t.userId)).toEqual({ used: expectedUsed, reserved: 0 });
    const { rows } = await database.pool!.query(`SELECT count(*)::int AS n FROM ops.outbox WHERE stream = 'request_logs' AND org_id = $1`, [t.orgId]);
    expect(rows[0].n).toBe(admitted.length);
    expect((await usageTotals(database, t.orgId)).requests).toBe(admitted.length);
  });

  it('an org limit is shared by its users and enforced the same way', async () => {
    const a = await createTenant(database, { role: 'admin' });
    const b = await createTenant(database, { role: 'member', orgId: a.orgId });
    await setLimits(database, a.orgId, null, { daily_token_limit: 500 });
    const periods = periodsAt(new Date());
    const results = await Promise.allSettled(Array.from({ length: 32 }, (_, i) => {
      const who = i % 2 ? a : b;
      const tenant = { orgId: who.orgId, userId: who.userId };
      return reserveTx(database, tenant, periods, (q) => reserveIn(q, tenant, periods, { requestId: randomUUID(), tokens: 60, costMicros: 0, ttlSeconds: 60 }));
    }));
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    expect(ok).toBe(Math.floor(500 / 60));
    const refusal = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;
    expect(refusal.extra.limit).toMatchObject({ subject: 'org', metric: 'tokens' });
  });

  it('the expiry job gives back what an unsettled reservation held, and a late settle still bills', async () => {
    const t = await createTenant(database, { role: 'member' });
    const tenant = { orgId: t.orgId, userId: t.userId };
    const requestId = randomUUID();
    const periods = periodsAt(new Date());
    await reserveTx(database, tenant, periods, (q) => reserveIn(q, tenant, periodsAt(new Date()), { requestId, tokens: 100, costMicros: 5, ttlSeconds: 60 }));
    await database.pool!.query(`UPDATE providers.quota_reservations SET expires_at = now() - interval '1 second' WHERE request_id = $1`, [requestId]);
    expect((await releaseExpiredReservations(database)).released).toBeGreaterThanOrEqual(1);
    expect(await counters(t.userId)).toEqual({ used: 0, reserved: 0 });
    expect((await releaseExpiredReservations(database)).released).toBe(0);
    await settle(database, tenant, { requestId, provider: 'openai', model: 'm', promptTokens: 10, completionTokens: 20, costMicros: 1, latencyMs: 1, status: 200, stream: true, keySource: 'platform' });
    expect(await counters(t.userId)).toEqual({ used: 30, reserved: 0 });
  });
});

describe('through the gateway: 32 concurrent openai clients against one quota', () => {
  // The upstream holds every admitted call until all 32 were decided (admitted or refused): none can
  // settle early, so the burst really competes for the room whatever the speed of the machine.
  let decided = 0;
  let gated: GatedUpstream;
  let gw: Gateway;
  const decide = () => {
    if (++decided === 32) gated.open();
  };
  beforeAll(async () => {
    gated = await startGatedUpstream(() => ({ prompt_tokens: 8, completion_tokens: 20 }), decide);
    await pointCatalog(database, 'openai', gated.baseUrl);
    gw = await startGateway(database, { platformKeys: { openai: 'sk-platform' } });
  });
  afterAll(async () => {
    await gw.close();
    await gated.close();
  });

  it('admitted usage stays within the limit, refusals are 429 naming the limit, nothing stays reserved', async () => {
    const t = await createTenant(database, { role: 'member' });
    const LIMIT = 600;
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: LIMIT });
    const client = gw.client(t.token);
    const results = await Promise.allSettled(Array.from({ length: 32 }, (_, i) =>
      (i % 2
        ? client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: `hi ${i}` }], max_tokens: 40 })
        : (async () => {
            const s = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: `hi ${i}` }], max_tokens: 40, stream: true });
            for await (const _ of s) void _;
          })()).catch((err) => {
        decide();
        throw err;
      })));
    const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(refused.length).toBeGreaterThan(0);
    expect(gated.arrived()).toBe(32 - refused.length);
    for (const r of refused) {
      expect(r.reason.status).toBe(429);
      expect(r.reason.error.code).toBe('quota-exceeded');
    }
    await settled(gw, database, t.orgId);
    const c = await counters(t.userId);
    expect(c.reserved).toBe(0);
    expect(c.used).toBeLessThanOrEqual(LIMIT);
    const usage = await usageTotals(database, t.orgId);
    expect(usage.prompt + usage.completion).toBe(c.used);
    expect(usage.requests).toBe(32 - refused.length);
  });
});
