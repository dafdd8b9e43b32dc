import { sql } from 'drizzle-orm';
import { withTenant, type Database } from '../../shared/db/index.js';
import { problems } from '../../shared/http/index.js';
import type { Principal } from '../../shared/security/tokens.js';
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
export async function usageReport(database: Database, p: Principal, query: UsageQuery) {
  const userId = query.user_id ?? p.userId;
  if (userId !== p.userId && p.role !== 'admin' && p.role !== 'owner') throw problems.notFound('user');
  const today = periodsAt(new Date());
  const from = query.from ?? today.month;
  const to = query.to ?? today.day;
  if (from > to) throw problems.badRequest('from must not be after to', 'invalid-range');
  const day = query.group_by === 'day' ? sql`day::text` : sql`NULL::text`;
  const model = query.group_by === 'model' ? sql`model` : sql`NULL::text`;
  const provider = query.group_by === 'day' ? sql`NULL::text` : sql`provider`;
  const rows = await withTenant(database, p, async (tx) => {
    if (userId !== p.userId) {
      const found = await tx.execute(sql`SELECT 1 FROM auth.users WHERE id = ${userId} AND org_id = ${p.orgId}`);
      if (!rowsOf(found).length) throw problems.notFound('user');
    }
    const res = await tx.execute(sql`
      SELECT ${day} AS day, ${provider} AS provider, ${model} AS model,
             sum(requests)::bigint AS requests, sum(prompt_tokens)::bigint AS prompt_tokens,
             sum(completion_tokens)::bigint AS completion_tokens, sum(cost_micros)::bigint AS cost_micros
      FROM providers.usage_tracking
      WHERE user_id = ${userId} AND day BETWEEN ${from}::date AND ${to}::date
      GROUP BY 1, 2, 3 ORDER BY 1 NULLS FIRST, 2 NULLS FIRST, 3 NULLS FIRST`);
    return rowsOf<Record<string, string | null>>(res);
  });
  const items = rows.map((r) => ({
    day: r.day, provider: r.provider, model: r.model, requests: Number(r.requests), prompt_tokens: Number(r.prompt_tokens),
    completion_tokens: Number(r.completion_tokens), cost_micros: Number(r.cost_micros),
  }));
  const totals = items.reduce(
    (t, i) => ({ requests: t.requests + i.requests, prompt_tokens: t.prompt_tokens + i.prompt_tokens, completion_tokens: t.completion_tokens + i.completion_tokens, cost_micros: t.cost_micros + i.cost_micros }),
    { requests: 0, prompt_tokens: 0, completion_tokens: 0, cost_micros: 0 },
  );
  return { from, to, group_by: query.group_by, user_id: userId, items, totals };
}
