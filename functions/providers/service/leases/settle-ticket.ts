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
  payload: string,
): Promise<{ settled: boolean; alerts: boolean }> {
  const result = await retryTransient(() => settleLeasedStatement(database, tenant, leasedSettleInput(s, ticket, tokens, occurredAt, payload)));
  return finished(ticket, result);
}

/** The statement's input for a leased call: each counter gives up at most the call's worst case. */
export function leasedSettleInput(s: Settlement, ticket: LeaseTicket, tokens: number, occurredAt: Date, payload: string): LeasedSettleInput {
  const take = { tokens: Math.min(tokens, ticket.want.tokens), cost: Math.min(s.costMicros, ticket.want.cost) };
  return {
    requestId: s.requestId, tokens, costMicros: s.costMicros, provider: s.provider, model: s.model, day: periodsAt(occurredAt).day,
    promptTokens: s.promptTokens, completionTokens: s.completionTokens, eventId: requestLogEventId(s.requestId),
    occurredAt: occurredAt.toISOString(), payload,
    parts: ticket.parts.map((p) => ({ counterId: p.counterId, leaseId: p.leaseId, take })),
    worst: ticket.want,
  };
}

/** A repeated settle (settled = false) consumed nothing; the first one's answer already moved memory. */
export function finished(ticket: LeaseTicket, result: LeasedSettleResult): { settled: boolean; alerts: boolean } {
  if (result.settled) finishTicket(ticket, result.consumed);
  return { settled: result.settled, alerts: result.alerts };
}
