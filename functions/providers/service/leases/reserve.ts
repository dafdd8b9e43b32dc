import type { Database } from '../../../shared/db/index.js';
import { HttpProblem } from '../../../shared/http/problem.js';
import { reserve, type Periods, type Reservation } from '../quota.js';
import type { ReserveBatcher } from '../reserve-batcher.js';
import { SETTLE_MAX_WAIT_MS, type SettleBatcher } from '../settle-batcher.js';
import type { SqlTenant } from '../../../shared/db/round-trip.js';
import type { QuotaLeases } from './index.js';
import type { LeaseTicket } from './ticket.js';

/**
 * The gateway's reserve: from this instance's quota leases when the providers function runs with them
 * (GATEWAY_QUOTA_LEASES=on, the default), journaled while the call runs, else a reservation row: in the instance's next reservation batch
 * (reserve-batcher.ts) when it has one, else by the one-statement RESERVE of quota.ts. What it returns goes
 * into the Settlement, so the settle knows where the call's allowance came from.
 */
export async function reserveForCall(
  deps: { database: Database; quotaLeases?: QuotaLeases; reserves?: ReserveBatcher; settles?: SettleBatcher },
  tenant: SqlTenant,
  periods: Periods,
  r: Reservation,
): Promise<{ lease?: LeaseTicket }> {
  if (deps.quotaLeases) {
    const lease = await deps.quotaLeases.reserve(tenant, periods, r);
    // Its journal row goes in the settle batcher's next window, while the call is upstream: what the
    // expiry job reports the call by if this instance dies before the settle (settle-batcher.ts).
    deps.settles?.journal(tenant, lease, new Date(lease.takenAt + deps.quotaLeases.policy.graceMs));
    return { lease };
  }
  const once = () => (deps.reserves ? deps.reserves.reserve(tenant, periods, r) : reserve(deps.database, tenant, periods, r));
  try {
    await once();
  } catch (err) {
    if (!roomMayFree(err)) throw err;
    // Answered calls keep their worst case reserved until their settle batch commits (settle-batcher.ts,
    // a few ms, on any instance): a refusal that only in-flight reservations cause is tried once more
    // after that window rather than answered as a 429 the limit does not justify.
    await new Promise((resolve) => setTimeout(resolve, SETTLE_LAG_MS));
    await once();
  }
  return {};
}

/** The settle batches' wait plus a commit, with margin. */
export const SETTLE_LAG_MS = SETTLE_MAX_WAIT_MS + 20;

/** A 429 that what is reserved (not what is used) causes: the call fits once in-flight calls settle below their worst case. */
function roomMayFree(err: unknown): boolean {
  if (!(err instanceof HttpProblem) || err.status !== 429) return false;
  const l = err.extra.limit as { limit?: number | null; used?: number; reserved?: number; requested?: number } | undefined;
  return typeof l?.limit === 'number' && typeof l.used === 'number' && typeof l.requested === 'number' && (l.reserved ?? 0) > 0 && l.used + l.requested <= l.limit;
}
