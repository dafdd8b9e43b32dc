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
  /** Set once the settle answered (or was given up): `held` follows what it took, exactly once. */
  done: boolean;
  /**
   * Set once the call's worst case stopped counting in flight: at `done`, or earlier when the call
   * outlived the reservation TTL (abandonTicket). Its settle may still come and take from the lease then.
   */
  released?: boolean;
  /** When it was served (the holder's clock): a ticket never settled is let go after the reservation TTL. */
  takenAt: number;
}

/** The call settled: `consumed` (lease id → amount) is what the settle took from each lease. */
export function finishTicket(ticket: LeaseTicket, consumed: Map<string, Amount>): void {
  if (ticket.done) return;
  ticket.done = true;
  const inflight = ticket.released ? ZERO : ticket.want;
  ticket.released = true;
  for (const p of ticket.parts) {
    // A lease this instance stopped tracking (given back, reclaimed) no longer mirrors the database.
    const same = p.leaseId !== null && p.state.leaseId === p.leaseId;
    p.state.finish(inflight, same ? (consumed.get(p.leaseId!) ?? ZERO) : ZERO);
  }
}

/**
 * The call outlived the reservation TTL (a hang, a bug): its worst case stops counting in flight, as an
 * expired reservation row's would. Only that: if its settle comes after all and takes from the lease
 * row, finishTicket still moves `held` down by what it took, or memory would hold more than the row.
 */
export function abandonTicket(ticket: LeaseTicket): void {
  if (ticket.done || ticket.released) return;
  ticket.released = true;
  for (const p of ticket.parts) p.state.finish(ticket.want, ZERO);
}
