import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import type { ChatRequest } from '../../functions/providers/adapters/index.js';
import { estimatePromptTokens } from '../../functions/providers/service/gateway.js';
import { costMicros } from '../../functions/providers/service/quota.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant, type TestTenant } from '../support/tenants.js';
import { startGatedUpstream } from '../fakes/gated-upstream.js';
import { pointCatalog, setLimits, settled, startGateway, usageTotals, type Gateway } from '../support/gateway.js';

/**
 * "No false 429s", proven through the HTTP API: 32 concurrent clients (the official openai client and
 * plain fetch, streaming and not) whose calls are held at the upstream until every one of them was
 * either admitted (reached the upstream) or refused. With nothing settled in between, the number of
 * admitted calls is fully determined by the limit and each call's worst case W:
 *   total demand ≤ limit → all 32 admitted;  otherwise → floor(limit / W), i.e. admitted·W ∈ (limit − W, limit].
 */
const { database } = await createTestDatabase({ poolMax: 40 });
const CLIENTS = 32;
const MAX_TOKENS = 40;
const MODEL = 'openai/gpt-4o-mini';
// Same length for every client, so every call reserves the same worst case.
const messagesOf = (i: number) => [{ role: 'user' as const, content: `client ${String(i).padStart(2, '0')} says hello` }];
const PROMPT = estimatePromptTokens({ model: MODEL, messages: messagesOf(0) } as ChatRequest);
const W = PROMPT + MAX_TOKENS;
let C = 0; // worst-case cost of one call, micro-dollars
let gw: Gateway;

beforeAll(async () => {
  const { rows } = await database.pool!.query(`SELECT input_price_micros_per_mtok AS i, output_price_micros_per_mtok AS o FROM providers.provider_models WHERE provider_id = 'openai' AND model = 'gpt-4o-mini'`);
  C = costMicros(PROMPT, MAX_TOKENS, Number(rows[0].i), Number(rows[0].o));
});

async function dailyCounter(subjectType: 'user' | 'org', subjectId: string) {
  const { rows } = await database.pool!.query(
    `SELECT tokens_used::int AS used, tokens_reserved::int AS reserved, cost_used_micros::int AS cost_used, cost_reserved_micros::int AS cost_reserved,
            tokens_leased::int AS leased, cost_leased_micros::int AS cost_leased
     FROM providers.quota_counters WHERE subject_type = $1 AND subject_id = $2 AND period = 'daily'`, [subjectType, subjectId]);
  return rows[0] as { used: number; reserved: number; cost_used: number; cost_reserved: number; leased: number; cost_leased: number };
}

type Outcome = { ok: true } | { ok: false; status: number; error: any; problem?: any; contentType?: string | null; retryAfter?: string | null };

/** One client: i % 4 picks openai client / fetch × JSON / SSE. `refused` fires the moment a refusal arrives. */
async function callOnce(t: TestTenant, i: number, refused: () => void): Promise<Outcome> {
  const body = { model: MODEL, messages: messagesOf(i), max_tokens: MAX_TOKENS };
  const stream = i % 4 === 1 || i % 4 === 3;
  if (i % 4 < 2) {
    try {
      if (stream) {
        const s = await gw.client(t.token).chat.completions.create({ ...body, stream: true });
        for await (const _ of s) void _;
      } else {
        await gw.client(t.token).chat.completions.create(body);
      }
      return { ok: true };
    } catch (err) {
      if (!(err instanceof OpenAI.APIError)) throw err;
      refused();
      return { ok: false, status: err.status ?? 0, error: err.error };
    }
  }
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream }),
  });
  if (res.ok) {
    await res.text();
    return { ok: true };
  }
  refused();
  const problem = (await res.json()) as any;
  return { ok: false, status: res.status, error: problem.error, problem, contentType: res.headers.get('content-type'), retryAfter: res.headers.get('retry-after') };
}

/**
 * Fires the burst, waits until all 32 are decided (arrived upstream or refused), snapshots the
 * counters while every admitted call still holds its reservation, then lets the upstream answer.
 */
async function burst(t: TestTenant) {
  let refusals = 0;
  let arrivals = 0;
  const upstream = await startGatedUpstream(() => ({ prompt_tokens: PROMPT, completion_tokens: MAX_TOKENS }), () => void arrivals++);
  try {
    await pointCatalog(database, 'openai', upstream.baseUrl);
    const results = Promise.all(Array.from({ length: CLIENTS }, (_, i) => callOnce(t, i, () => void refusals++)));
    const deadline = Date.now() + 10_000;
    while (arrivals + refusals < CLIENTS) {
      if (Date.now() > deadline) throw new Error(`only ${arrivals} arrived and ${refusals} refused`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const atPeak = await dailyCounter('user', t.userId);
    upstream.open();
    const outcomes = await results;
    await settled(gw, database, t.orgId);
    return { outcomes, admitted: outcomes.filter((o) => o.ok).length, arrivals, atPeak };
  } finally {
    upstream.open();
    await upstream.close();
  }
}

function expectQuotaRefusals(outcomes: Outcome[], metric: 'tokens' | 'cost', limit: number) {
  const refused = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
  for (const r of refused) {
    expect(r.status).toBe(429);
    // OpenAI's error shape: what the openai SDK surfaces as err.error.
    expect(r.error).toMatchObject({ type: 'rate_limit_error', code: 'quota-exceeded' });
    expect(r.error.message).toContain(`daily ${metric === 'tokens' ? 'token' : 'cost (micro-dollars)'} limit would be exceeded: limit ${limit}`);
    if (r.problem) {
      // Under /v1/ the kernel answers application/json (what OpenAI SDKs parse), problem members beside `error`.
      expect(r.contentType).toContain('application/json');
      // Refused while admitted calls still hold reservations: room frees up when they settle, so the
      // answer is "retry in 1 s", not "at the end of the day".
      expect(r.problem.limit.used + r.problem.limit.requested).toBeLessThanOrEqual(limit);
      expect(r.retryAfter).toBe('1');
      expect(r.problem).toMatchObject({ status: 429, limit: { subject: 'user', period: 'daily', metric, limit } });
    }
  }
  // At most 10 of 32 are admitted, so both the openai client (16 calls) and fetch (16) saw refusals.
  expect(refused.some((r) => r.problem)).toBe(true);
  expect(refused.some((r) => !r.problem)).toBe(true);
  return refused.length;
}

/**
 * What the admitted calls hold at the peak: their reservation rows' worst cases on the counter, or (leases,
 * one instance) the lease the instance served them from, which holds at least their worst cases and never
 * more than the limit leaves.
 */
function expectHeldAtPeak(mode: Mode, peak: { used: number; reserved: number; leased: number }, inFlight: number, limit: number) {
  if (mode === 'reservations') {
    expect(peak).toMatchObject({ used: 0, reserved: inFlight, leased: 0 });
  } else {
    expect(peak).toMatchObject({ used: 0, reserved: 0 });
    expect(peak.leased).toBeGreaterThanOrEqual(inFlight);
    expect(peak.leased).toBeLessThanOrEqual(limit);
  }
}

type Mode = 'reservations' | 'leases';

describe.each(['reservations', 'leases'] as const)('no false 429s through the gateway: 32 concurrent clients (%s)', (mode) => {
  beforeAll(async () => {
    gw = await startGateway(database, {
      platformKeys: { openai: 'sk-platform' },
      envOverrides: { GATEWAY_UPSTREAM_TIMEOUT_MS: '15000', GATEWAY_QUOTA_LEASES: mode === 'leases' ? 'on' : 'off' },
    });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('when the total worst-case demand fits exactly, every call succeeds (zero 429)', async () => {
    const t = await createTenant(database, { role: 'member' });
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: CLIENTS * W, daily_cost_limit_micros: CLIENTS * C });
    await setLimits(database, t.orgId, null, { daily_token_limit: CLIENTS * W, daily_cost_limit_micros: CLIENTS * C });
    const { outcomes, admitted, atPeak } = await burst(t);
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    expect(admitted).toBe(CLIENTS);
    // Every token and micro-dollar of the limit was held at once, and none past it.
    expectHeldAtPeak(mode, atPeak, CLIENTS * W, CLIENTS * W);
    expectHeldAtPeak(mode, { used: atPeak.cost_used, reserved: atPeak.cost_reserved, leased: atPeak.cost_leased }, CLIENTS * C, CLIENTS * C);
    expect(await dailyCounter('user', t.userId)).toMatchObject({ used: CLIENTS * W, reserved: 0, cost_used: CLIENTS * C, cost_reserved: 0 });
    expect(await dailyCounter('org', t.orgId)).toMatchObject({ used: CLIENTS * W, reserved: 0 });
  });

  it('when demand exceeds a token limit, admitted usage is within one call of the limit and every refusal is a 429 naming it', async () => {
    const t = await createTenant(database, { role: 'member' });
    const LIMIT = 10 * W + Math.floor(W / 2);
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: LIMIT });
    const { outcomes, admitted, arrivals, atPeak } = await burst(t);
    expect(arrivals).toBe(admitted);
    expect(admitted * W).toBeLessThanOrEqual(LIMIT);
    expect(admitted * W).toBeGreaterThan(LIMIT - W);
    expectHeldAtPeak(mode, atPeak, admitted * W, LIMIT);
    expect(expectQuotaRefusals(outcomes, 'tokens', LIMIT)).toBe(CLIENTS - admitted);
    // Billed usage equals the worst case here (the upstream reports it), and stays within the limit.
    const after = await dailyCounter('user', t.userId);
    expect(after).toMatchObject({ used: admitted * W, reserved: 0 });
    const usage = await usageTotals(database, t.orgId);
    expect({ requests: usage.requests, tokens: usage.prompt + usage.completion }).toEqual({ requests: admitted, tokens: admitted * W });
  });

  it('when demand exceeds a cost limit, the same holds in micro-dollars', async () => {
    expect(C).toBeGreaterThan(1);
    const t = await createTenant(database, { role: 'member' });
    const LIMIT = 7 * C + Math.floor(C / 2);
    await setLimits(database, t.orgId, t.userId, { daily_cost_limit_micros: LIMIT });
    const { outcomes, admitted, atPeak } = await burst(t);
    expect(admitted * C).toBeLessThanOrEqual(LIMIT);
    expect(admitted * C).toBeGreaterThan(LIMIT - C);
    expectHeldAtPeak(mode, { used: atPeak.cost_used, reserved: atPeak.cost_reserved, leased: atPeak.cost_leased }, admitted * C, LIMIT);
    expect(expectQuotaRefusals(outcomes, 'cost', LIMIT)).toBe(CLIENTS - admitted);
    expect(await dailyCounter('user', t.userId)).toMatchObject({ cost_used: admitted * C, cost_reserved: 0 });
  });
});
