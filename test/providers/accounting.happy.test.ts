import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicUpstream } from '../fakes/anthropic-upstream.js';
import { startOpenAiUpstream } from '../fakes/openai-upstream.js';
import type { FakeUpstream } from '../fakes/upstream-core.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant } from '../support/tenants.js';
import { pointCatalog, requestLogs, settled, startGateway, usageTotals, type Gateway } from '../support/gateway.js';

const { database } = await createTestDatabase();
let openai: FakeUpstream;
let anthropic: FakeUpstream;
let gw: Gateway;

beforeAll(async () => {
  openai = await startOpenAiUpstream();
  anthropic = await startAnthropicUpstream();
  await pointCatalog(database, 'openai', openai.baseUrl);
  await pointCatalog(database, 'anthropic', anthropic.baseUrl);
  gw = await startGateway(database, { platformKeys: { openai: 'sk-p', anthropic: 'sk-a' }, envOverrides: { GATEWAY_UPSTREAM_TIMEOUT_MS: '2500' } });
});
afterAll(async () => {
  await gw.close();
  await openai.close();
  await anthropic.close();
});

const post = (token: string, body: unknown, signal?: AbortSignal) =>
  fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body), signal });

/** Reads a few SSE bytes, then hangs up (the client disconnects mid-stream). */
async function disconnectAfterFirstChunks(token: string, model: string): Promise<number> {
  const controller = new AbortController();
  const res = await post(token, { model, stream: true, messages: [{ role: 'user', content: 'long [[words:200]] [[slow:15]]' }] }, controller.signal);
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let received = 0;
  while (received < 5) {
    const { value, done } = await reader.read();
    if (done) break;
    received += (new TextDecoder().decode(value).match(/"content":"/g) ?? []).length;
  }
  controller.abort();
  return received;
}

describe('accounting: Σ request_logs = Σ usage_tracking over a mixed run', () => {
  it('success, upstream 500, timeout and client disconnect all settle, and the sums agree', async () => {
    const t = await createTenant(database, { role: 'member' });
    const outcomes = await Promise.all([
      post(t.token, { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'plain success' }] }).then((r) => r.status),
      post(t.token, { model: 'anthropic/claude-3-5-haiku-latest', stream: true, messages: [{ role: 'user', content: 'streamed success' }] }).then(async (r) => (await r.text(), r.status)),
      post(t.token, { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'boom [[fail:500]]' }] }).then((r) => r.status),
      post(t.token, { model: 'anthropic/claude-3-5-haiku-latest', messages: [{ role: 'user', content: 'stuck [[hang]]' }] }).then((r) => r.status),
      post(t.token, { model: 'openai/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'stuck stream [[hang]]' }] }).then((r) => r.status),
      disconnectAfterFirstChunks(t.token, 'openai/gpt-4o-mini').then(() => 'cut'),
      disconnectAfterFirstChunks(t.token, 'anthropic/claude-3-5-haiku-latest').then(() => 'cut'),
    ]);
    expect(outcomes).toEqual([200, 200, 502, 504, 504, 'cut', 'cut']);
    await settled(gw, database, t.orgId);

    const logs = await requestLogs(database, t.orgId);
    const usage = await usageTotals(database, t.orgId);
    expect(logs).toHaveLength(7);
    expect(usage.requests).toBe(7);
    const sum = (k: string) => logs.reduce((s, l) => s + Number(l[k]), 0);
    expect(sum('prompt_tokens')).toBe(usage.prompt);
    expect(sum('completion_tokens')).toBe(usage.completion);
    expect(sum('cost_micros')).toBe(usage.cost);
    expect(logs.map((l) => l.status).sort()).toEqual([200, 200, 499, 499, 502, 504, 504]);

    // Cut streams are billed for what was produced (not zero, not the full 200 words).
    for (const cut of logs.filter((l) => l.status === 499)) {
      expect(cut.completion_tokens).toBeGreaterThan(0);
      expect(cut.completion_tokens).toBeLessThan(200);
      expect(cut.error_code).toBe('client-disconnected');
      expect(cut.stream).toBe(true);
    }
    // Failed calls cost nothing and say why.
    expect(logs.filter((l) => l.status >= 500).every((l) => l.prompt_tokens === 0 && l.completion_tokens === 0 && l.error_code)).toBe(true);
    // Counters agree too, and nothing is left reserved.
    const { rows } = await database.pool!.query(
      `SELECT tokens_used::int AS used, tokens_reserved::int AS reserved FROM providers.quota_counters WHERE subject_type = 'user' AND subject_id = $1 AND period = 'daily'`, [t.userId]);
    expect(rows[0]).toEqual({ used: usage.prompt + usage.completion, reserved: 0 });
  });

  it('an upstream 500 answers 502 in the OpenAI error shape without the provider body; 429 passes as 429', async () => {
    const t = await createTenant(database, { role: 'member' });
    const res = await post(t.token, { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: '[[fail:500]]' }] });
    expect(res.status).toBe(502);
    const body = await res.text();
    expect(JSON.parse(body).error).toMatchObject({ type: 'api_error', code: 'upstream-error' });
    expect(body).not.toContain('org_12345');
    const limited = await post(t.token, { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: '[[fail:429]]' }] });
    expect(limited.status).toBe(429);
    // The fake answers OpenAI's recorded 429 body, whose code (rate_limit_exceeded) the gateway keeps.
    expect(((await limited.json()) as any).error.code).toBe('rate_limit_exceeded');
  });
});
