import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { loadMigrations, migrateUp } from '../../scripts/db/migrator.js';
import { periodsAt } from '../../functions/providers/service/quota.js';
import { QuotaLeases } from '../../functions/providers/service/leases/index.js';
import { reserveForCall } from '../../functions/providers/service/leases/reserve.js';
import { ReserveBatcher } from '../../functions/providers/service/reserve-batcher.js';
import { SettleBatcher } from '../../functions/providers/service/settle-batcher.js';
import { pgliteDatabase } from '../../functions/shared/db/pglite.js';
import { createLogger } from '../../functions/shared/http/logger.js';
import { createTenant } from '../support/tenants.js';

/** The embedded mode (npm run dev): the gateway's reservation and settle batches and its quota leases on PGlite, same statements. */
const database = await pgliteDatabase(undefined);
afterAll(() => database.close());

it('on PGlite: reserve in batches (counters created on the first call), settle in batches, counters and usage agree', { timeout: 120_000 }, async () => {
  const client = await database.connect();
  await migrateUp(client, loadMigrations());
  const tenant = await createTenant(database);
  const periods = periodsAt(new Date());
  const reserves = new ReserveBatcher({ database, maxConcurrent: 1 });
  const settles = new SettleBatcher({ database, log: createLogger(), busy: () => false });
  const ids = Array.from({ length: 5 }, () => randomUUID());
  await Promise.all(ids.map((requestId) => reserves.reserve(tenant, periods, { requestId, tokens: 100, costMicros: 10, ttlSeconds: 600 })));
  const held = await database.pglite!.query<{ n: number }>(`select count(*)::int as n from providers.quota_reservations where org_id = $1 and state = 'reserved'`, [tenant.orgId]);
  expect(held.rows).toEqual([{ n: 5 }]);
  const outcomes = await Promise.all(ids.map((requestId) => settles.settle(tenant, {
    requestId, provider: 'openai', model: 'gpt-4o-mini', promptTokens: 3, completionTokens: 4, costMicros: 2, latencyMs: 1, status: 200, stream: false, keySource: 'platform',
  })));
  expect(outcomes.every((o) => o.settled)).toBe(true);
  const counters = await database.pglite!.query<{ used: number; reserved: number }>(
    `select tokens_used::int as used, tokens_reserved::int as reserved from providers.quota_counters where org_id = $1`, [tenant.orgId]);
  expect(counters.rows).toHaveLength(4);
  for (const row of counters.rows) expect(row).toEqual({ used: 35, reserved: 0 });
  const usage = await database.pglite!.query<{ requests: number }>(`select requests::int as requests from providers.usage_tracking where org_id = $1`, [tenant.orgId]);
  expect(usage.rows).toEqual([{ requests: 5 }]);
});

it('on PGlite: quota leases (the default) serve calls, journal them while they run, and settle them in batches', { timeout: 120_000 }, async () => {
  const tenant = await createTenant(database);
  await database.pglite!.query(`insert into providers.user_quotas (org_id, user_id, daily_token_limit) values ($1, $2, 1000000)`, [tenant.orgId, tenant.userId]);
  const periods = periodsAt(new Date());
  const quotaLeases = new QuotaLeases(database, { holder: `pglite-${randomUUID()}` });
  const settles = new SettleBatcher({ database, log: createLogger(), busy: () => true, maxWaitMs: 60_000, journalWaitMs: 60_000 });
  const tickets = await Promise.all(Array.from({ length: 3 }, () =>
    reserveForCall({ database, quotaLeases, settles }, tenant, periods, { requestId: randomUUID(), tokens: 100, costMicros: 10, ttlSeconds: 600 }).then((r) => r.lease!)));
  await settles.flush();
  const journaled = await database.pglite!.query<{ n: number }>(`select count(*)::int as n from providers.quota_reservations where org_id = $1 and state = 'leased'`, [tenant.orgId]);
  expect(journaled.rows).toEqual([{ n: 3 }]);
  const outcomes = tickets.map((lease) => settles.settle(tenant, {
    requestId: lease.requestId, provider: 'openai', model: 'gpt-4o-mini', promptTokens: 3, completionTokens: 4, costMicros: 2, latencyMs: 1, status: 200, stream: false, keySource: 'platform', lease,
  }));
  await settles.flush();
  expect((await Promise.all(outcomes)).every((o) => o.settled)).toBe(true);
  await quotaLeases.returnAll();
  const counters = await database.pglite!.query<{ used: number; reserved: number; leased: number }>(
    `select tokens_used::int as used, tokens_reserved::int as reserved, tokens_leased::int as leased from providers.quota_counters where org_id = $1`, [tenant.orgId]);
  for (const row of counters.rows) expect(row).toEqual({ used: 21, reserved: 0, leased: 0 });
});
