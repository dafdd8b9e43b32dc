import { describe, expect, it } from 'vitest';
import { periodsAt, refusal } from '../../functions/providers/service/quota.js';

/** The 429 a refused call gets names the limit that refused it (quota.ts refusal()). */
describe('quota refusal', () => {
  const periods = periodsAt(new Date('2026-06-15T12:00:00Z'));
  const row = { subject_type: 'user' as const, period: 'daily' as const, token_limit: '1120', tokens_used: '1036', tokens_reserved: '0', cost_limit_micros: null, cost_used_micros: '0', cost_reserved_micros: '0' };

  it('a counter with only a token limit is refused for tokens, even when the in-flight figure it is given lags', () => {
    const p = refusal(row, { tokens: 44, costMicros: 14 }, periods);
    expect(p.status).toBe(429);
    expect(p.extra.limit).toMatchObject({ metric: 'tokens', limit: 1120, used: 1036, requested: 44 });
  });

  it('a counter whose token room fits but whose cost limit does not is refused for cost', () => {
    const p = refusal({ ...row, cost_limit_micros: '100', cost_used_micros: '90' }, { tokens: 44, costMicros: 14 }, periods);
    expect(p.extra.limit).toMatchObject({ metric: 'cost', limit: 100, used: 90, requested: 14 });
  });
});
