import { sql } from 'drizzle-orm';
import type { Tx } from '../../shared/db/database.js';
import { problems, type HttpProblem } from '../../shared/http/problem.js';
import type { ClientInfo } from './client.js';
import { writeAuthEvent } from './audit.js';
import { rowsOf } from '../../shared/db/rows.js';

export interface Limit {
  max: number;
  windowSeconds: number;
}

/**
 * Fixed-window limits, per client IP and per account (email hash or user id). Kept in PostgreSQL
 * because a functions fleet shares no memory. Per-account limits sit above the lockout threshold
 * (10) so the lockout, not the limiter, is what a guesser meets first.
 */
export interface RateLimitPolicy {
  loginIp: Limit;
  loginAccount: Limit;
  registerIp: Limit;
  forgotIp: Limit;
  forgotAccount: Limit;
  mfaIp: Limit;
  mfaAccount: Limit;
}

export const DEFAULT_LIMITS: RateLimitPolicy = {
  loginIp: { max: 60, windowSeconds: 900 },
  loginAccount: { max: 20, windowSeconds: 900 },
  registerIp: { max: 10, windowSeconds: 3600 },
  forgotIp: { max: 10, windowSeconds: 3600 },
  forgotAccount: { max: 3, windowSeconds: 3600 },
  mfaIp: { max: 30, windowSeconds: 900 },
  mfaAccount: { max: 15, windowSeconds: 900 },
};

/** Counts one hit in the current window (one atomic upsert) and returns the count and seconds left. */
export async function hit(tx: Tx, key: string, limit: Limit): Promise<{ count: number; retryAfter: number }> {
  const w = limit.windowSeconds;
  const result = await tx.execute(sql`
    insert into ops.rate_limits as r (key, window_start, count)
    values (${key}, to_timestamp(floor(extract(epoch from clock_timestamp()) / ${w}) * ${w}), 1)
    on conflict (key, window_start) do update set count = r.count + 1
    returning r.count, extract(epoch from r.window_start)::float8 + ${w} - extract(epoch from clock_timestamp())::float8 as retry_after`);
  const row = rowsOf<{ count: number; retry_after: number }>(result)[0]!;
  return { count: Number(row.count), retryAfter: Number(row.retry_after) };
}

export type LimitRules = Array<[key: string, limit: Limit]>;

export interface LimitContext {
  action: string;
  emailHash?: string | null;
  userId?: string | null;
  orgId?: string | null;
}

/**
 * Counts the attempt against every rule; when any is over its limit, audits `rate_limited` in the same
 * (system) transaction and returns the 429 + Retry-After to throw. It returns the refusal instead of
 * throwing it so that the caller commits the counts and the audit row first (flows/support.ts `limited`).
 * Every attempt counts, successful or not, so the limit cannot be reset by a valid guess.
 */
export async function countAttempt(tx: Tx, rules: LimitRules, client: ClientInfo, context: LimitContext): Promise<HttpProblem | undefined> {
  let retryAfter = 0;
  for (const [key, limit] of rules) {
    const { count, retryAfter: wait } = await hit(tx, key.slice(0, 300), limit);
    if (count > limit.max) retryAfter = Math.max(retryAfter, wait);
  }
  if (retryAfter <= 0) return undefined;
  await writeAuthEvent(tx, {
    event: 'rate_limited',
    orgId: context.orgId ?? null,
    userId: context.userId ?? null,
    emailHash: context.emailHash ?? null,
    client,
    details: { action: context.action },
  });
  return problems.tooMany(`too many ${context.action} attempts; retry later`, retryAfter);
}
