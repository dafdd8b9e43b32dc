import { describe, expect, it } from 'vitest';
import { CounterLease, DEFAULT_LEASE_POLICY } from '../../../functions/providers/service/leases/allocator.js';
import { finished } from '../../../functions/providers/service/leases/settle-ticket.js';
import { abandonTicket, finishTicket, type LeaseTicket } from '../../../functions/providers/service/leases/ticket.js';

/**
 * A ticket's two effects on the holder's memory, each exactly once: its worst case stops counting in
 * flight (at the settle, or when the call outlived the reservation TTL), and `held` moves down by what
 * the settle took from the lease row, whenever that settle comes. Memory must never hold more than the row.
 */
function served(held: number, want: number): { state: CounterLease; ticket: LeaseTicket } {
  const state = new CounterLease('c1', 'k', DEFAULT_LEASE_POLICY);
  state.leaseId = 'L1';
  state.held = { tokens: held, cost: held };
  state.take({ tokens: want, cost: want }, 0);
  return { state, ticket: { requestId: 'r', want: { tokens: want, cost: want }, parts: [{ state, counterId: 'c1', leaseId: 'L1' }], done: false, takenAt: 0 } };
}

describe('lease tickets', () => {
  it('a call abandoned past the reservation TTL whose settle then commits: memory drops by what the row gave up (found by review: it stayed 300 above the row)', () => {
    const { state, ticket } = served(1000, 400);
    abandonTicket(ticket);
    expect(state.inflight).toEqual({ tokens: 0, cost: 0 });
    expect(state.held).toEqual({ tokens: 1000, cost: 1000 });
    const input = { parts: [{ counterId: 'c1', leaseId: 'L1', take: { tokens: 300, cost: 300 } }] } as never;
    finished(ticket, input, { settled: true, alerts: false, consumed: new Map([['L1', { tokens: 300, cost: 300 }]]) });
    expect(state.held).toEqual({ tokens: 700, cost: 700 });
    expect(state.inflight).toEqual({ tokens: 0, cost: 0 });
  });

  it('each effect happens once: a second finish or abandon changes nothing', () => {
    const { state, ticket } = served(1000, 400);
    finishTicket(ticket, new Map([['L1', { tokens: 100, cost: 100 }]]));
    finishTicket(ticket, new Map([['L1', { tokens: 100, cost: 100 }]]));
    abandonTicket(ticket);
    expect(state.held).toEqual({ tokens: 900, cost: 900 });
    expect(state.inflight).toEqual({ tokens: 0, cost: 0 });
  });
});
