/**
 * The tail every single-call settle statement shares (quota.ts SETTLE for a reserved call, leases/settle.ts
 * for a leased one): the usage_tracking upsert and the request-log outbox row, both written for the org
 * and user of the CTE named `from` (the reservation row, never the caller). Parameters, the same in both:
 * $3 cost micros, $4 provider, $5 model, $6 day, $7 prompt tokens, $8 completion tokens, $9 event id,
 * $10 occurred at, $11 payload. The batch path (migration 0010 settle_batch) aggregates per key instead.
 */
export const usageAndRequestLogCtes = (from: string): string => `u AS (
  INSERT INTO providers.usage_tracking AS ut (org_id, user_id, provider, model, day, requests, prompt_tokens, completion_tokens, cost_micros)
  SELECT ${from}.org_id, ${from}.user_id, $4::text, $5::text, $6::date, 1, $7::bigint, $8::bigint, $3::bigint FROM ${from}
  ON CONFLICT (user_id, provider, model, day) DO UPDATE
  SET requests = ut.requests + 1, prompt_tokens = ut.prompt_tokens + EXCLUDED.prompt_tokens,
      completion_tokens = ut.completion_tokens + EXCLUDED.completion_tokens, cost_micros = ut.cost_micros + EXCLUDED.cost_micros
  RETURNING 1
), o AS (
  INSERT INTO ops.outbox (event_id, stream, org_id, occurred_at, payload)
  SELECT $9::uuid, 'request_logs', ${from}.org_id, $10::timestamptz,
         $11::jsonb || jsonb_build_object('org_id', ${from}.org_id, 'user_id', ${from}.user_id)
  FROM ${from}
  ON CONFLICT DO NOTHING -- no conflict target: naming one needs SELECT on ops.outbox, which the app role lacks
)`;
