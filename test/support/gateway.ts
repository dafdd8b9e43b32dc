import { createServer } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import OpenAI from 'openai';
import type { Database } from '../../functions/shared/db/database.js';
import { buildProvidersApp } from '../../functions/providers/app.js';
import { buildProvidersServices, type ProvidersOptions, type ProvidersServices } from '../../functions/providers/services.js';
import { listen, testKernel } from './app.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../fakes/scripted-upstream.js';

/**
 * The providers app on a loopback port, with its services exposed. Catalog providers are pointed at
 * fake upstreams by updating their base_url row in this file's own test database (the owner
 * connection): the code under test reads the catalog exactly as in production, no test-only switch.
 */
export interface Gateway {
  url: string;
  services: ProvidersServices;
  app: ReturnType<typeof buildProvidersApp>;
  client(token: string): OpenAI;
  close(): Promise<void>;
}

export async function startGateway(database: Database, options: ProvidersOptions & { envOverrides?: Record<string, string> } = {}): Promise<Gateway> {
  const services = await buildProvidersServices(testKernel(database, options.envOverrides), { retry: { baseDelayMs: 5, maxDelayMs: 20 }, ...options });
  const app = buildProvidersApp(async () => services);
  const server = await listen(createServer(getRequestListener(app.fetch)));
  return {
    url: server.url,
    services,
    app,
    client: (token) => new OpenAI({ apiKey: token, baseURL: `${server.url}/v1`, maxRetries: 0, timeout: 20_000 }),
    close: server.close,
  };
}

export async function pointCatalog(database: Database, providerId: string, baseUrl: string): Promise<void> {
  await database.pool!.query('UPDATE providers.providers SET base_url = $1 WHERE id = $2', [baseUrl, providerId]);
}

export async function setLimits(database: Database, orgId: string, userId: string | null, limits: { daily_token_limit?: number | null; daily_cost_limit_micros?: number | null }) {
  await database.pool!.query(
    `INSERT INTO providers.user_quotas (org_id, user_id, daily_token_limit, daily_cost_limit_micros) VALUES ($1, $2, $3, $4)
     ON CONFLICT (org_id, user_id) DO UPDATE SET daily_token_limit = EXCLUDED.daily_token_limit, daily_cost_limit_micros = EXCLUDED.daily_cost_limit_micros`,
    [orgId, userId, limits.daily_token_limit ?? null, limits.daily_cost_limit_micros ?? null],
  );
}

/** Request logs as the drain job will see them (ops.outbox payloads). */
export async function requestLogs(database: Database, orgId: string) {
  const { rows } = await database.pool!.query<{ payload: any }>(`SELECT payload FROM ops.outbox WHERE stream = 'request_logs' AND org_id = $1`, [orgId]);
  return rows.map((r) => r.payload);
}

export async function usageTotals(database: Database, orgId: string) {
  const { rows } = await database.pool!.query<{ requests: string; prompt: string; completion: string; cost: string }>(
    `SELECT coalesce(sum(requests),0) AS requests, coalesce(sum(prompt_tokens),0) AS prompt, coalesce(sum(completion_tokens),0) AS completion, coalesce(sum(cost_micros),0) AS cost
     FROM providers.usage_tracking WHERE org_id = $1`, [orgId]);
  const r = rows[0]!;
  return { requests: Number(r.requests), prompt: Number(r.prompt), completion: Number(r.completion), cost: Number(r.cost) };
}

/** Waits until no reservation of the org is still 'reserved' (streams settle after the client is gone). */
export async function settled(gateway: Gateway, database: Database, orgId: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await gateway.services.idle();
    const { rows } = await database.pool!.query(`SELECT count(*)::int AS n FROM providers.quota_reservations WHERE org_id = $1 AND state = 'reserved'`, [orgId]);
    if (rows[0].n === 0) return;
    if (Date.now() > deadline) throw new Error(`${rows[0].n} reservations still open`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Platform keys whose shapes the scrubber knows (sk-…, sk-ant-…, AIza…), for tests that look for them in answers and logs. */
export const PLATFORM_KEYS = { openai: 'sk-platform-openai-0000', anthropic: 'sk-ant-platform-0000', gemini: 'AIzaPlatformGemini0000' };

/**
 * The three providers' catalog entries pointed at one scripted upstream (OpenAI and Anthropic under /v1,
 * Gemini under /v1beta, as their real base URLs are), and a gateway with platform keys for all three.
 */
export async function startScriptedGateway(database: Database, options: Parameters<typeof startGateway>[1] = {}): Promise<{ upstream: ScriptedUpstream; gw: Gateway }> {
  const upstream = await startScriptedUpstream();
  await pointCatalog(database, 'openai', upstream.baseUrl('/v1'));
  await pointCatalog(database, 'anthropic', upstream.baseUrl('/v1'));
  await pointCatalog(database, 'gemini', upstream.baseUrl('/v1beta'));
  const gw = await startGateway(database, { platformKeys: PLATFORM_KEYS, ...options });
  return { upstream, gw };
}
