import type { Database } from '../../../shared/db/index.js';
import { reserve, type Periods, type Reservation } from '../quota.js';
import type { ReserveBatcher } from '../reserve-batcher.js';
import type { SqlTenant } from '../sql.js';
import type { QuotaLeases } from './index.js';
import type { LeaseTicket } from './ticket.js';

/**
 * The gateway's reserve: from this instance's quota leases when the providers function runs with them
 * (GATEWAY_QUOTA_LEASES=on), else a reservation row: in the instance's next reservation batch
 * (reserve-batcher.ts) when it has one, else by the one-statement RESERVE of quota.ts. What it returns goes
 * into the Settlement, so the settle knows where the call's allowance came from.
 */
export async function reserveForCall(
  deps: { database: Database; quotaLeases?: QuotaLeases; reserves?: ReserveBatcher },
  tenant: SqlTenant,
  periods: Periods,
  r: Reservation,
): Promise<{ lease?: LeaseTicket }> {
  if (deps.quotaLeases) return { lease: await deps.quotaLeases.reserve(tenant, periods, r) };
  if (deps.reserves) await deps.reserves.reserve(tenant, periods, r);
  else await reserve(deps.database, tenant, periods, r);
  return {};
}
