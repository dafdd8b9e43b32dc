import { describe, expect, it } from 'vitest';
import { CounterLease, DEFAULT_LEASE_POLICY, DemandRate, sliceTarget, unusedAfter } from '../../../functions/providers/service/leases/allocator.js';

const P = DEFAULT_LEASE_POLICY;

describe('lease allocator: slice sizing', () => {
  it('far from the limit a slice is what demand asks for', () => {
    expect(unusedAfter(1_000_000, 100, 5_000, 0, 0.25)).toBe(5_000);
  });

  it('near the limit slices shrink to a share of what remains, but the waiting call still fits', () => {
    const slices = [100_000, 20_000, 4_000, 800, 150].map((room) => unusedAfter(room, 100, 5_000, 0, 0.25));
    expect(slices).toEqual([5_000, 5_000, 1_000, 200, 100]);
    for (let i = 1; i < slices.length; i++) expect(slices[i]!).toBeLessThanOrEqual(slices[i - 1]!);
  });

  it('never grants more than remains', () => {
    for (const room of [0, 1, 99, 100, 101, 399, 5_000]) {
      for (const share of [0.1, 0.25, 1]) expect(unusedAfter(room, 100, 10_000, 0, share)).toBeLessThanOrEqual(Math.max(room, 0));
    }
  });

  it('refused (the call does not fit): keeps only what still fits of what it held, nothing past a lowered limit', () => {
    expect(unusedAfter(60, 100, 500, 300, 0.25)).toBe(60);
    expect(unusedAfter(60, 100, 500, 20, 0.25)).toBe(20);
    expect(unusedAfter(-500, 100, 500, 300, 0.25)).toBe(0);
  });

  it('the slice target follows recent demand, and covers several calls before any was seen', () => {
    expect(sliceTarget(100, 0, P, false)).toBe(100 * P.firstCalls);
    // 50 tokens per ms of demand, two serve windows of 2 s: 200,000.
    expect(sliceTarget(100, 50, { ...P, serveMs: 2_000, windows: 2 }, true)).toBe(200_000);
    expect(sliceTarget(100, 0.001, P, true)).toBe(100);
  });

  it('the demand rate converges to a steady stream and decays when it stops', () => {
    const d = new DemandRate(1_000);
    for (let t = 0; t <= 20_000; t += 10) d.add(100, t); // 10 tokens/ms
    expect(d.perMs(20_000)).toBeGreaterThan(9);
    expect(d.perMs(20_000)).toBeLessThan(11);
    expect(d.perMs(30_000)).toBeLessThan(0.02);
  });
});

describe('lease allocator: serving from memory', () => {
  const lease = () => {
    const c = new CounterLease('c1', 'user:u:daily:d', P);
    c.tokenLimit = 1_000;
    c.costLimit = null;
    c.leaseId = 'l1';
    c.held = { tokens: 300, cost: 0 };
    c.serveUntil = 2_000;
    return c;
  };

  it('serves while the allowance lasts, only inside the serve window, never while a statement is pending', () => {
    const c = lease();
    const call = { tokens: 100, cost: 999_999 }; // no cost limit: cost is not judged
    expect(c.covers(call, 0)).toBe(true);
    c.take(call, 0);
    c.take(call, 0);
    c.take(call, 0);
    expect(c.covers(call, 0)).toBe(false);
    expect(c.lacks(call)).toEqual({ tokens: 100, cost: 0 });
    c.finish(call, { tokens: 40, cost: 0 }); // used 40 of its 100: 60 come back to the lease
    expect(c.held).toEqual({ tokens: 260, cost: 0 });
    expect(c.lacks(call)).toEqual({ tokens: 40, cost: 0 });
    c.finish(call, { tokens: 0, cost: 0 }); // a settle given up: the hold ends, nothing consumed
    expect(c.held).toEqual({ tokens: 260, cost: 0 });
    expect(c.covers(call, 0)).toBe(true);
    expect(c.covers(call, 2_000)).toBe(false);
    c.pending = Promise.resolve();
    expect(c.covers(call, 0)).toBe(false);
  });

  it('asks for the call and a demand-sized slice, only in limited dimensions', () => {
    const c = lease();
    expect(c.ask({ tokens: 100, cost: 50 }, P, 0)).toEqual({ need: { tokens: 100, cost: 0 }, target: { tokens: 100 * P.firstCalls, cost: 0 } });
  });
});
