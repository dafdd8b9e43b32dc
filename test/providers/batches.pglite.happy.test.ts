import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { loadMigrations, migrateUp } from '../../scripts/db/migrator.js';
import { periodsAt } from '../../functions/providers/service/quota.js';
import { ReserveBatcher } from '../../functions/providers/service/reserve-batcher.js';
import { SettleBatcher } from '../../functions/providers/service/settle-batcher.js';
import { pgliteDatabase } from '../../functions/shared/db/pglite.js';
import { createLogger } from '../../functions/shared/http/logger.js';
import { createTenant } from '../support/tenants.js';

/** The embedded mode (npm run dev): the gateway's reservation and settle batches on PGlite, same statements. */
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
