import { and, eq, isNull, or, sql } from 'drizzle-orm';
import { users } from '../../../drizzle/schema/auth.js';
import { quotaCounters, userQuotas } from '../../../drizzle/schema/providers.js';
import type { Tx } from '../../shared/db/index.js';
import { assertRole, problems, type Tenant } from '../../shared/http/index.js';
import { periodsAt } from './quota.js';

/** Limits (user_quotas) and current use (quota_counters of the current UTC day and month). */
export interface QuotaLimits {
  daily_token_limit?: number | null;
  monthly_token_limit?: number | null;
  daily_cost_limit_micros?: number | null;
  monthly_cost_limit_micros?: number | null;
}

export type Subject = { type: 'user'; id: string } | { type: 'org'; id: string };

async function read(tx: Tx, t: Tenant, subject: Subject) {
  const { day, month } = periodsAt(new Date());
  const [limits] = await tx.select().from(userQuotas)
    .where(and(eq(userQuotas.orgId, t.orgId), subject.type === 'user' ? eq(userQuotas.userId, subject.id) : isNull(userQuotas.userId)));
  const counters = await tx.select().from(quotaCounters).where(and(
    eq(quotaCounters.subjectType, subject.type), eq(quotaCounters.subjectId, subject.id),
    or(and(eq(quotaCounters.period, 'daily'), eq(quotaCounters.periodStart, day)), and(eq(quotaCounters.period, 'monthly'), eq(quotaCounters.periodStart, month))),
  ));
  const shape = (period: 'daily' | 'monthly') => {
    const c = counters.find((r) => r.period === period);
    return {
      period_start: period === 'daily' ? day : month,
      token_limit: (period === 'daily' ? limits?.dailyTokenLimit : limits?.monthlyTokenLimit) ?? null,
      tokens_used: c?.tokensUsed ?? 0,
      tokens_reserved: c?.tokensReserved ?? 0,
      tokens_leased: c?.tokensLeased ?? 0,
      cost_limit_micros: (period === 'daily' ? limits?.dailyCostLimitMicros : limits?.monthlyCostLimitMicros) ?? null,
      cost_used_micros: c?.costUsedMicros ?? 0,
      cost_reserved_micros: c?.costReservedMicros ?? 0,
      cost_leased_micros: c?.costLeasedMicros ?? 0,
    };
  };
  return { daily: shape('daily'), monthly: shape('monthly'), version: limits?.version ?? 0 };
}

/** Own quota for anyone; another user's only for an admin of the same org, else 404 (no existence leak). */
export async function getQuota(tx: Tx, t: Tenant, userId: string) {
  if (userId !== t.userId) {
    if (t.role !== 'admin' && t.role !== 'owner') throw problems.notFound('user');
    await assertUserInOrg(tx, t, userId);
  }
  const mine = await read(tx, t, { type: 'user', id: userId });
  const org = await read(tx, t, { type: 'org', id: t.orgId });
  return { user_id: userId, daily: mine.daily, monthly: mine.monthly, organization: { daily: org.daily, monthly: org.monthly }, version: mine.version };
}

export const getOrgQuota = (tx: Tx, t: Tenant) => read(tx, t, { type: 'org', id: t.orgId });

async function assertUserInOrg(tx: Tx, t: Tenant, userId: string) {
  const [row] = await tx.select({ id: users.id }).from(users).where(and(eq(users.id, userId), eq(users.orgId, t.orgId)));
  if (!row) throw problems.notFound('user');
}

/**
 * PUT semantics: the body replaces the limits (a missing limit means unlimited). The counters of the
 * current periods get the new limits in the same transaction, so the next reservation enforces them.
 */
export async function putQuota(tx: Tx, t: Tenant, input: { subject: Subject; limits: QuotaLimits; expected?: number }) {
  const { subject, limits, expected } = input;
  assertRole(t, 'admin');
  if (subject.type === 'user') await assertUserInOrg(tx, t, subject.id);
  const values = {
    dailyTokenLimit: limits.daily_token_limit ?? null,
    monthlyTokenLimit: limits.monthly_token_limit ?? null,
    dailyCostLimitMicros: limits.daily_cost_limit_micros ?? null,
    monthlyCostLimitMicros: limits.monthly_cost_limit_micros ?? null,
  };
  const { day, month } = periodsAt(new Date());
  const userId = subject.type === 'user' ? subject.id : null;
  const [current] = await tx.select({ version: userQuotas.version }).from(userQuotas)
    .where(and(eq(userQuotas.orgId, t.orgId), userId ? eq(userQuotas.userId, userId) : isNull(userQuotas.userId)))
    .for('update');
  if (expected !== undefined && expected !== (current?.version ?? 0)) throw problems.preconditionFailed();
  let v: number;
  if (current) {
    const [row] = await tx.update(userQuotas).set({ ...values, version: sql`${userQuotas.version} + 1`, updatedBy: t.userId })
      .where(and(eq(userQuotas.orgId, t.orgId), userId ? eq(userQuotas.userId, userId) : isNull(userQuotas.userId)))
      .returning({ version: userQuotas.version });
    v = row!.version;
  } else {
    const [row] = await tx.insert(userQuotas).values({ orgId: t.orgId, userId, ...values, createdBy: t.userId, updatedBy: t.userId }).returning({ version: userQuotas.version });
    v = row!.version;
  }
  // Counters are locked in id order, as reservations, settles, leases and the expiry job take them,
  // so this transaction cannot deadlock with a reservation batch between its two updates.
  await tx.select({ id: quotaCounters.id }).from(quotaCounters)
    .where(and(eq(quotaCounters.subjectType, subject.type), eq(quotaCounters.subjectId, subject.id),
      or(and(eq(quotaCounters.period, 'daily'), eq(quotaCounters.periodStart, day)), and(eq(quotaCounters.period, 'monthly'), eq(quotaCounters.periodStart, month)))))
    .orderBy(quotaCounters.id)
    .for('update');
  for (const [period, start, tokenLimit, costLimit] of [
    ['daily', day, values.dailyTokenLimit, values.dailyCostLimitMicros],
    ['monthly', month, values.monthlyTokenLimit, values.monthlyCostLimitMicros],
  ] as const) {
    await tx.update(quotaCounters).set({ tokenLimit, costLimitMicros: costLimit })
      .where(and(eq(quotaCounters.subjectType, subject.type), eq(quotaCounters.subjectId, subject.id), eq(quotaCounters.period, period), eq(quotaCounters.periodStart, start)));
  }
  return { version: v };
}
