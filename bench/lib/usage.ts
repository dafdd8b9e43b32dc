import type { BenchDatabase } from './database.js';

/**
 * Σ usage_tracking once it has stopped moving: settlement may land after the answers (streams settle
 * when they end; batched settlement commits a little later), so the figure is read until it has not
 * changed for a full second (four reads 250 ms apart), at most 20 s.
 */
export async function settledUsage(bench: BenchDatabase, userId?: string): Promise<{ requests: number; tokens: number }> {
  let last = '';
  let still = 0;
  let value = { requests: 0, tokens: 0 };
  for (let tries = 0; tries < 80; tries++) {
    const { rows } = await bench.database.pool!.query(
      `select coalesce(sum(requests), 0)::bigint as requests, coalesce(sum(prompt_tokens + completion_tokens), 0)::bigint as tokens
       from providers.usage_tracking where $1::uuid is null or user_id = $1::uuid`,
      [userId ?? null],
    );
    value = { requests: Number(rows[0].requests), tokens: Number(rows[0].tokens) };
    const now = `${value.requests}/${value.tokens}`;
    still = now === last ? still + 1 : 0;
    if (still >= 4) return value;
    last = now;
    await new Promise((r) => setTimeout(r, 250));
  }
  return value;
}
