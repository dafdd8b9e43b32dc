import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../functions/shared/db/database.js';
import { pgFromUrl } from '../../functions/shared/db/pg.js';
import { setLogSink } from '../../functions/shared/http/logger.js';
import { startOpenAiUpstream } from '../fakes/openai-upstream.js';
import type { FakeUpstream } from '../fakes/upstream-core.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant } from '../support/tenants.js';
import { pointCatalog, requestLogs, setLimits, settled, startGateway, usageTotals, type Gateway } from '../support/gateway.js';

/**
 * Settle durability: the settle statement's connection is killed (pg_terminate_backend, as in a
 * failover) → the answer is still 200, settle is retried in the background and the call is billed
 * exactly once; if every retry fails, an ERROR line names the request and its usage.
 */
const { database, url } = await createTestDatabase();
let gatewayDb: Database;
let upstream: FakeUpstream;
type Mode = 'reservations' | 'leases';
const gateways = {} as Record<Mode, Gateway>;
/** How many coming settle statements lose their connection. */
let killSettles = 0;
const lines: string[] = [];
let previousSink: (line: string) => void;

/** Wraps the gateway pool: a settle statement first terminates its own backend while killSettles > 0. */
function killSettleConnections(db: Database): void {
  const pool = db.pool!;
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  const patched = new WeakSet<pg.PoolClient>();
  const connectPatched = async () => {
    const client = await connect();
    if (patched.has(client)) return client;
    patched.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
    (client as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = async (...args: unknown[]) => {
      // The settle statement travels as its text or, once prepared on the connection, by its name.
      if (typeof args[0] === 'string' && /SET state = 'settled'|llc_quota_settle|llc_lease_settle/.test(args[0]) && killSettles > 0) {
        killSettles--;
        await database.pool!.query('SELECT pg_terminate_backend($1)', [(client as unknown as { processID: number }).processID]);
      }
      return query(...args);
    };
    return client;
  };
  // pg's own pool.query() calls connect with a callback (pg-pool's README): both forms must work.
  type Callback = (err: Error | undefined, client?: pg.PoolClient, release?: (err?: Error | boolean) => void) => void;
  (pool as unknown as { connect: (cb?: Callback) => Promise<pg.PoolClient> | undefined }).connect = (cb?: Callback) => {
    if (!cb) return connectPatched();
    connectPatched().then((client) => cb(undefined, client, (err) => client.release(err)), (err: Error) => cb(err));
    return undefined;
  };
}

beforeAll(async () => {
  previousSink = setLogSink((line) => lines.push(line));
  upstream = await startOpenAiUpstream();
  await pointCatalog(database, 'openai', upstream.baseUrl);
  gatewayDb = pgFromUrl(url, { max: 4, applicationName: 'lattice-settle-retry' });
  killSettleConnections(gatewayDb);
  for (const mode of ['reservations', 'leases'] as const) {
    gateways[mode] = await startGateway(gatewayDb, {
      platformKeys: { openai: 'sk-p' }, settleRetryDelaysMs: [20, 40, 80], envOverrides: { GATEWAY_QUOTA_LEASES: mode === 'leases' ? 'on' : 'off' },
    });
  }
});
afterAll(async () => {
  setLogSink(previousSink);
  for (const gw of Object.values(gateways)) await gw.close();
  await upstream.close();
  await gatewayDb.close();
});

const post = (gw: Gateway, token: string, body: unknown) =>
  fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function userCounters(userId: string) {
  const { rows } = await database.pool!.query(
    `SELECT tokens_used::int AS used, tokens_reserved::int AS reserved FROM providers.quota_counters WHERE subject_type = 'user' AND subject_id = $1 AND period = 'daily'`, [userId]);
  return rows[0] as { used: number; reserved: number };
}

describe.each(['reservations', 'leases'] as const)('settle retried after a lost connection (%s)', (mode) => {
  it('settle fails once, then succeeds: the call is answered and billed exactly once', async () => {
    const gw = gateways[mode];
    const t = await createTenant(database, { role: 'member' });
    // Limited, so a leased call holds a real lease (an unlimited counter is never leased).
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: 1_000_000 });
    killSettles = 1;
    const res = await post(gw, t.token, { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'billed once' }] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
    await settled(gw, database, t.orgId);
    expect(killSettles).toBe(0); // the failure really happened
    const told = body.usage.prompt_tokens + body.usage.completion_tokens;
    const usage = await usageTotals(database, t.orgId);
    expect(usage.requests).toBe(1);
    expect(usage.prompt + usage.completion).toBe(told);
    expect(await userCounters(t.userId)).toEqual({ used: told, reserved: 0 });
    const logs = await requestLogs(database, t.orgId);
    expect(logs).toHaveLength(1);
    expect(logs[0].request_id).toBe(res.headers.get('x-gateway-request-id'));
    if (mode === 'leases') {
      // The repeated settle (its first try's reply lost, or its first try never ran) left the holder's
      // memory no higher than the lease row: nothing is in flight, and it holds at most what the row does.
      const { rows } = await database.pool!.query(`SELECT tokens_held::int AS held FROM providers.quota_leases WHERE org_id = $1 AND counter_id = (SELECT id FROM providers.quota_counters WHERE subject_type = 'user' AND subject_id = $2 AND period = 'daily')`, [t.orgId, t.userId]);
      const mine = gw.services.quotaLeases!.snapshot().find((l) => l.key.startsWith(`user:${t.userId}:daily`))!;
      expect(mine.inflight.tokens).toBe(0);
      expect(mine.held.tokens).toBeLessThanOrEqual(rows[0].held);
    }
  });

  it('settle that keeps failing: still answered, nothing billed twice, an ERROR line carries the request id and usage', async () => {
    const gw = gateways[mode];
    const t = await createTenant(database, { role: 'member' });
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: 1_000_000 });
    killSettles = 100;
    const res = await post(gw, t.token, { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'never settles' }] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
    await gw.services.idle();
    killSettles = 0;
    const requestId = res.headers.get('x-gateway-request-id');
    const error = lines.map((l) => JSON.parse(l)).find((l) => l.message === 'settle failed: call not billed' && l.gatewayRequestId === requestId);
    expect(error).toMatchObject({ severity: 'ERROR', usage: { prompt: body.usage.prompt_tokens, completion: body.usage.completion_tokens } });
    expect((await usageTotals(database, t.orgId)).requests).toBe(0);
    const { rows } = await database.pool!.query(`SELECT state FROM providers.quota_reservations WHERE request_id = $1`, [requestId]);
    // Left for the expiry job, which reports it: a reservation row holding its room, or a leased call's
    // journal row (its room is in the lease, given back when it idles or expires).
    expect(rows).toEqual([{ state: mode === 'leases' ? 'leased' : 'reserved' }]);
  });
});
