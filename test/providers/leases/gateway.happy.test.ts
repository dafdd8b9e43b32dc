import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../../functions/providers/adapters/index.js';
import { estimatePromptTokens } from '../../../functions/providers/service/gateway.js';
import { createTestDatabase } from '../../support/db.js';
import { createTenant } from '../../support/tenants.js';
import { startGatedUpstream } from '../../fakes/gated-upstream.js';
import { pointCatalog, requestLogs, setLimits, startGateway, usageTotals, type Gateway } from '../../support/gateway.js';

/**
 * The gateway with quota leases on (GATEWAY_QUOTA_LEASES=on), through HTTP: 32 concurrent clients held
 * at the upstream until all were admitted or refused, streaming and not. Granted work stays within the
 * limit, refusals are 429s naming it, billing is exact, and shutdown (services.close, what SIGTERM runs
 * after the drain) gives every lease back.
 */
const { database } = await createTestDatabase({ poolMax: 20 });
const CLIENTS = 32;
const MAX_TOKENS = 40;
const MODEL = 'openai/gpt-4o-mini';
const messagesOf = (i: number) => [{ role: 'user' as const, content: `client ${String(i).padStart(2, '0')} says hello` }];
const W = estimatePromptTokens({ model: MODEL, messages: messagesOf(0) } as ChatRequest) + MAX_TOKENS;
let gw: Gateway;

beforeAll(async () => {
  gw = await startGateway(database, { platformKeys: { openai: 'sk-platform' }, quotaLeases: {}, envOverrides: { GATEWAY_UPSTREAM_TIMEOUT_MS: '15000' } });
});
afterAll(async () => {
  await gw.close();
});

async function counters(orgId: string) {
  const { rows } = await database.pool!.query(
    `SELECT sum(tokens_used)::int AS used, sum(tokens_reserved)::int AS reserved, sum(tokens_leased)::int AS leased FROM providers.quota_counters WHERE org_id = $1 AND subject_type = 'user' AND period = 'daily'`, [orgId]);
  return rows[0] as { used: number; reserved: number; leased: number };
}

describe('gateway with quota leases', () => {
  it('32 concurrent clients: within the limit, 429s naming it, exact billing, leases given back at shutdown', async () => {
    const t = await createTenant(database, { role: 'member' });
    const LIMIT = 10 * W + Math.floor(W / 2);
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: LIMIT });
    let arrivals = 0;
    let refusals = 0;
    const upstream = await startGatedUpstream(() => ({ prompt_tokens: W - MAX_TOKENS, completion_tokens: MAX_TOKENS - 5 }), () => void arrivals++);
    try {
      await pointCatalog(database, 'openai', upstream.baseUrl);
      const client = gw.client(t.token);
      const results = Promise.allSettled(Array.from({ length: CLIENTS }, async (_, i) => {
        try {
          const body = { model: MODEL, messages: messagesOf(i), max_tokens: MAX_TOKENS };
          if (i % 2) {
            const s = await client.chat.completions.create({ ...body, stream: true });
            for await (const _ of s) void _;
          } else {
            await client.chat.completions.create(body);
          }
        } catch (err) {
          refusals++;
          throw err;
        }
      }));
      for (const deadline = Date.now() + 10_000; arrivals + refusals < CLIENTS;) {
        if (Date.now() > deadline) throw new Error(`only ${arrivals} arrived and ${refusals} refused`);
        await new Promise((r) => setTimeout(r, 10));
      }
      const peak = await counters(t.orgId);
      expect(arrivals * W).toBeLessThanOrEqual(LIMIT);
      // One holder: nothing of the room is held elsewhere, so no false 429.
      expect(arrivals).toBe(Math.floor(LIMIT / W));
      expect(peak.used + peak.reserved + peak.leased).toBeLessThanOrEqual(LIMIT);
      upstream.open();
      const outcomes = await results;
      for (const o of outcomes.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) {
        expect(o.reason.status).toBe(429);
        expect(o.reason.error).toMatchObject({ code: 'quota-exceeded' });
        expect(o.reason.error.message).toContain(`daily token limit would be exceeded: limit ${LIMIT}`);
      }
      // Streams settle after their last byte: wait until every admitted call is billed.
      for (const deadline = Date.now() + 10_000; (await usageTotals(database, t.orgId)).requests < arrivals;) {
        if (Date.now() > deadline) throw new Error('calls not settled');
        await gw.services.idle();
        await new Promise((r) => setTimeout(r, 20));
      }
      const usage = await usageTotals(database, t.orgId);
      const after = await counters(t.orgId);
      expect(after.used).toBe(arrivals * (W - 5));
      expect(usage.prompt + usage.completion).toBe(after.used);
      const logs = await requestLogs(database, t.orgId);
      expect(logs.reduce((s, l) => s + l.prompt_tokens + l.completion_tokens, 0)).toBe(after.used);
      expect(after.leased).toBeGreaterThan(0); // what the calls did not use stays leased for the next ones
      // The caller's quota view shows it: the room a new call on another instance could get is limit − used − leased.
      const view = await fetch(`${gw.url}/quotas`, { headers: { authorization: `Bearer ${t.token}` } });
      expect(((await view.json()) as { daily: unknown }).daily).toMatchObject({ token_limit: LIMIT, tokens_used: after.used, tokens_reserved: 0, tokens_leased: after.leased });

      await gw.services.close!();
      expect(await counters(t.orgId)).toEqual({ used: arrivals * (W - 5), reserved: 0, leased: 0 });
      const { rows } = await database.pool!.query(`SELECT count(*)::int AS n FROM providers.quota_leases WHERE org_id = $1`, [t.orgId]);
      expect(rows[0].n).toBe(0);
    } finally {
      upstream.open();
      await upstream.close();
    }
  });
});
