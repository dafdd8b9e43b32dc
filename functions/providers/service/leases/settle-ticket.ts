import type { Database } from '../../../shared/db/index.js';
import { periodsAt, requestLogEventId, retryTransient, type Settlement } from '../quota.js';
import type { SqlTenant } from '../../../shared/db/round-trip.js';
import { settleLeasedStatement, type LeasedSettleInput, type LeasedSettleResult } from './settle.js';
import { finishTicket, type LeaseTicket } from './ticket.js';

/**
 * The settle of a call served from leases (quota.ts settleWithAlerts hands it over when
 * Settlement.lease is set): each counter's share is taken from the lease it came from, at most the
 * call's worst case, and the holder's memory follows what the statement reported.
 */
export async function settleLeased(
  database: Database,
  tenant: SqlTenant,
  s: Settlement,
  ticket: LeaseTicket,
  tokens: number,
  occurredAt: Date,
  payload: object,
): Promise<{ settled: boolean; alerts: boolean }> {
  const input = leasedSettleInput(s, ticket, tokens, occurredAt, payload);
  const result = await retryTransient(() => settleLeasedStatement(database, tenant, input));
  return finished(ticket, input, result);
}

/** What the call's settle takes from each lease it came from: its usage, at most its worst case. */
const takeOf = (s: Settlement, ticket: LeaseTicket) => ({
  tokens: Math.min(s.promptTokens + s.completionTokens, ticket.want.tokens), cost: Math.min(s.costMicros, ticket.want.cost),
});

/** The statement's input for a leased call: each counter gives up at most the call's worst case. */
export function leasedSettleInput(s: Settlement, ticket: LeaseTicket, tokens: number, occurredAt: Date, payload: object): LeasedSettleInput {
  const take = { ...takeOf(s, ticket), tokens: Math.min(tokens, ticket.want.tokens) };
  return {
    requestId: s.requestId, tokens, costMicros: s.costMicros, provider: s.provider, model: s.model, day: periodsAt(occurredAt).day,
    promptTokens: s.promptTokens, completionTokens: s.completionTokens, eventId: requestLogEventId(s.requestId),
    occurredAt: occurredAt.toISOString(), payload,
    parts: ticket.parts.map((p) => ({ counterId: p.counterId, leaseId: p.leaseId, take })),
    worst: ticket.want,
  };
}

/**
 * Moves the holder's memory by what the settle took. A repeated settle (settled = false: an earlier try
 * committed and its answer was lost, a connection dropped after COMMIT) took nothing now, and what the
 * first one took is not known here: it was at most each part's `take`, so that is what memory gives up.
 * Memory then holds no more than the lease row does (never less: serving beyond the row would pass the
 * limit); the difference goes back with the lease's next give-back, which keeps what is in flight.
 */
export function finished(ticket: LeaseTicket, input: LeasedSettleInput, result: LeasedSettleResult): { settled: boolean; alerts: boolean } {
  if (result.settled) finishTicket(ticket, result.consumed);
  else finishTicket(ticket, new Map(input.parts.flatMap((p) => (p.leaseId ? [[p.leaseId, p.take] as const] : []))));
  return { settled: result.settled, alerts: result.alerts };
}

/**
 * The settle was given up after tries whose outcome is unknown (each may have committed before its
 * reply was lost, as in a failover): memory gives up the most a committed try would have taken, as for
 * a repeated settle. Abandoning the ticket (taking nothing) would leave memory above the lease row when
 * one did commit, and the instance would serve beyond its limit.
 */
export function finishUnsure(ticket: LeaseTicket, s: Settlement): void {
  const take = takeOf(s, ticket);
  finishTicket(ticket, new Map(ticket.parts.flatMap((p) => (p.leaseId ? [[p.leaseId, take] as const] : []))));
}
