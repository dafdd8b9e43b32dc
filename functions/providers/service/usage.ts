import { sql } from 'drizzle-orm';
import type { Tx } from '../../shared/db/index.js';
import { problems, type Tenant } from '../../shared/http/index.js';
import { providerProblems } from './errors.js';
import { periodsAt } from './quota.js';
import { rowsOf } from '../../shared/db/rows.js';

export type GroupBy = 'day' | 'model' | 'provider';

export interface UsageQuery {
  from?: string;
  to?: string;
  group_by: GroupBy;
  user_id?: string;
}

/** Usage of one user (the caller, or for admins any user of the org; others → 404) from usage_tracking. */
export async function usageReport(tx: Tx, t: Tenant, query: UsageQuery) {
  const userId = query.user_id ?? t.userId;
  if (userId !== t.userId && t.role !== 'admin' && t.role !== 'owner') throw problems.notFound('user');
  const today = periodsAt(new Date());
  const from = query.from ?? today.month;
  const to = query.to ?? today.day;
  if (from > to) throw providerProblems.invalidRange();
  const day = query.group_by === 'day' ? sql`day::text` : sql`NULL::text`;
  const model = query.group_by === 'model' ? sql`model` : sql`NULL::text`;
  const provider = query.group_by === 'day' ? sql`NULL::text` : sql`provider`;
  if (userId !== t.userId) {
    const found = await tx.execute(sql`SELECT 1 FROM auth.users WHERE id = ${userId} AND org_id = ${t.orgId}`);
    if (!rowsOf(found).length) throw problems.notFound('user');
  }
  const res = await tx.execute(sql`
      SELECT ${day} AS day, ${provider} AS provider, ${model} AS model,
             sum(requests)::bigint AS requests, sum(prompt_tokens)::bigint AS prompt_tokens,
             sum(completion_tokens)::bigint AS completion_tokens, sum(cost_micros)::bigint AS cost_micros
      FROM providers.usage_tracking
      WHERE user_id = ${userId} AND day BETWEEN ${from}::date AND ${to}::date
      GROUP BY 1, 2, 3 ORDER BY 1 NULLS FIRST, 2 NULLS FIRST, 3 NULLS FIRST`);
  const rows = rowsOf<Record<string, string | null>>(res);
  const items = rows.map((r) => ({
    day: r.day, provider: r.provider, model: r.model, requests: Number(r.requests), prompt_tokens: Number(r.prompt_tokens),
    completion_tokens: Number(r.completion_tokens), cost_micros: Number(r.cost_micros),
  }));
  const totals = items.reduce(
    (sum, i) => ({ requests: sum.requests + i.requests, prompt_tokens: sum.prompt_tokens + i.prompt_tokens, completion_tokens: sum.completion_tokens + i.completion_tokens, cost_micros: sum.cost_micros + i.cost_micros }),
    { requests: 0, prompt_tokens: 0, completion_tokens: 0, cost_micros: 0 },
  );
  return { from, to, group_by: query.group_by, user_id: userId, items, totals };
}
