import { ZERO, type Amount, type CounterLease } from './allocator.js';

/**
 * A call served from leases: what it holds in memory until its settle answers. It travels with the
 * Settlement (Settlement.lease), so the settle statement knows which lease each counter's share came
 * from (settle-ticket.ts), and the holder's memory moves by what that settle reported.
 */
export interface LeaseTicket {
  requestId: string;
  want: Amount;
  parts: { state: CounterLease; counterId: string; leaseId: string | null }[];
  /** Set once the settle answered (or was given up): memory is adjusted exactly once. */
  done: boolean;
  /** When it was served (the holder's clock): a ticket never settled is let go after the reservation TTL. */
  takenAt: number;
}

/** The call settled: `consumed` (lease id → amount) is what the settle took from each lease. */
export function finishTicket(ticket: LeaseTicket, consumed: Map<string, Amount>): void {
  if (ticket.done) return;
  ticket.done = true;
  for (const p of ticket.parts) {
    // A lease this instance stopped tracking (given back, reclaimed) no longer mirrors the database.
    const same = p.leaseId !== null && p.state.leaseId === p.leaseId;
    p.state.finish(ticket.want, same ? (consumed.get(p.leaseId!) ?? ZERO) : ZERO);
  }
}

/** The settle was given up (the call is not billed, as with an expired reservation): only the hold ends. */
export function abandonTicket(ticket: LeaseTicket): void {
  finishTicket(ticket, new Map());
}
