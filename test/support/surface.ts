import OpenAI from 'openai';
import { createTestDatabase } from './db.js';
import { createTenant, type TestTenant } from './tenants.js';
import { startReplayUpstream, type ReplayUpstream } from '../fakes/replay-upstream.js';
import { startGateway, type Gateway } from './gateway.js';
import type { Database } from '../../functions/shared/db/database.js';

/**
 * A gateway with one BYOK key per adapter, each pointing at a replay upstream: `ant/<model>`
 * (Anthropic Messages), `gem/<model>` (Gemini), `oai/<model>` (OpenAI). Own keys call any model name,
 * so the tests use current ones (claude-opus-4-6, gemini-3-flash-preview, gpt-4o-mini).
 */
export interface Surface {
  database: Database;
  gw: Gateway;
  tenant: TestTenant;
  up: { ant: ReplayUpstream; gem: ReplayUpstream; oai: ReplayUpstream };
  client: OpenAI;
  close(): Promise<void>;
}

export async function addKey(gw: Gateway, token: string, key: { provider: string; name: string; api_key: string; base_url?: string; drop_params?: boolean }) {
  const res = await fetch(`${gw.url}/keys`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(key) });
  if (res.status !== 201) throw new Error(`POST /keys answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { id: string; drop_params?: boolean };
}

export async function startSurface(): Promise<Surface> {
  const { database } = await createTestDatabase();
  const up = { ant: await startReplayUpstream('/v1'), gem: await startReplayUpstream('/v1beta'), oai: await startReplayUpstream('/v1') };
  const gw = await startGateway(database, { platformKeys: {} });
  const tenant = await createTenant(database, { role: 'member' });
  await addKey(gw, tenant.token, { provider: 'anthropic', name: 'ant', api_key: 'sk-ant-api03-surface-test-key', base_url: up.ant.baseUrl });
  await addKey(gw, tenant.token, { provider: 'gemini', name: 'gem', api_key: 'AIzaSySurfaceTestKey000000', base_url: up.gem.baseUrl });
  await addKey(gw, tenant.token, { provider: 'openai', name: 'oai', api_key: 'sk-proj-surface-test-key', base_url: up.oai.baseUrl });
  return {
    database, gw, tenant, up, client: gw.client(tenant.token),
    close: async () => {
      await gw.close();
      await Promise.all(Object.values(up).map((u) => u.close()));
    },
  };
}

/** Drains an openai-client stream into what a client assembles: text, tool calls by index, finish reasons, usage. */
export async function collect(stream: AsyncIterable<OpenAI.ChatCompletionChunk>) {
  const choices = new Map<number, { content: string; reasoning: string; toolCalls: { id?: string; name?: string; arguments: string }[]; finish?: string | null }>();
  let usage: OpenAI.CompletionUsage | undefined;
  let chunks = 0;
  for await (const c of stream) {
    chunks++;
    if (c.usage) usage = c.usage;
    for (const ch of c.choices) {
      const acc = choices.get(ch.index) ?? { content: '', reasoning: '', toolCalls: [] };
      choices.set(ch.index, acc);
      acc.content += ch.delta?.content ?? '';
      acc.reasoning += (ch.delta as { reasoning_content?: string })?.reasoning_content ?? '';
      for (const t of ch.delta?.tool_calls ?? []) {
        const call = (acc.toolCalls[t.index] ??= { arguments: '' });
        if (t.id) call.id = t.id;
        if (t.function?.name) call.name = t.function.name;
        call.arguments += t.function?.arguments ?? '';
      }
      if (ch.finish_reason) acc.finish = ch.finish_reason;
    }
  }
  return { choices, usage, chunks };
}
