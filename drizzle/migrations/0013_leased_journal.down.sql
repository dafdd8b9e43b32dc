-- providers: leased calls are no longer journaled nor settled in cross-tenant batches. Rows still
-- 'leased' end as 'released' (the state the expiry job would have given them) so the older checks hold.
DROP FUNCTION IF EXISTS providers.settle_leased_batch(jsonb);
--> statement-breakpoint
DROP FUNCTION IF EXISTS providers.journal_leased(jsonb);
--> statement-breakpoint
UPDATE providers.quota_reservations SET state = 'released', settled_at = now() WHERE state = 'leased';
--> statement-breakpoint
ALTER TABLE "providers"."quota_reservations" DROP CONSTRAINT "quota_reservations_state_check";
--> statement-breakpoint
ALTER TABLE "providers"."quota_reservations" DROP CONSTRAINT "quota_reservations_settled_at_check";
--> statement-breakpoint
DROP INDEX "providers"."quota_reservations_expires_at_idx";
--> statement-breakpoint
CREATE INDEX "quota_reservations_expires_at_idx" ON "providers"."quota_reservations" USING btree ("expires_at") WHERE "providers"."quota_reservations"."state" = 'reserved';
--> statement-breakpoint
ALTER TABLE "providers"."quota_reservations" ADD CONSTRAINT "quota_reservations_state_check" CHECK ("providers"."quota_reservations"."state" IN ('reserved', 'settled', 'released'));
--> statement-breakpoint
ALTER TABLE "providers"."quota_reservations" ADD CONSTRAINT "quota_reservations_settled_at_check" CHECK (("providers"."quota_reservations"."state" = 'reserved') = ("providers"."quota_reservations"."settled_at" IS NULL));
--> statement-breakpoint
CREATE OR REPLACE FUNCTION providers.settle_batch(p_items jsonb)
RETURNS TABLE (request_id text, settled boolean, alerts boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, providers, pg_temp AS $$
#variable_conflict use_column
BEGIN
RETURN QUERY
WITH items AS (
  SELECT DISTINCT ON (x.request_id) x.*
  FROM jsonb_to_recordset(p_items) AS x(
    request_id text, org_id uuid, user_id uuid, provider text, model text, day date,
    prompt_tokens bigint, completion_tokens bigint, cost_micros bigint, event_id uuid, occurred_at timestamptz, payload jsonb)
  ORDER BY x.request_id
), prev AS (
  SELECT q.request_id, q.state
  FROM providers.quota_reservations q
  JOIN items i ON i.request_id = q.request_id AND i.org_id = q.org_id AND i.user_id = q.user_id
  WHERE q.state <> 'settled'
  ORDER BY q.request_id
  FOR UPDATE OF q
), r AS (
  UPDATE providers.quota_reservations q
  SET state = 'settled', tokens_used = i.prompt_tokens + i.completion_tokens, cost_used_micros = i.cost_micros, settled_at = now()
  FROM prev JOIN items i ON i.request_id = prev.request_id
  WHERE q.request_id = prev.request_id
  RETURNING q.request_id, q.org_id, q.user_id, q.counter_ids, i.provider, i.model, i.day, i.prompt_tokens, i.completion_tokens,
    i.cost_micros, i.event_id, i.occurred_at, i.payload,
    CASE WHEN prev.state = 'reserved' THEN q.tokens_reserved ELSE 0 END AS give_tokens,
    CASE WHEN prev.state = 'reserved' THEN q.cost_reserved_micros ELSE 0 END AS give_cost
), per AS (
  -- One delta per counter for the whole batch: a hot org's counters are locked and written once.
  SELECT cid, sum(r.prompt_tokens + r.completion_tokens)::bigint AS used_t, sum(r.give_tokens)::bigint AS give_t,
         sum(r.cost_micros)::bigint AS used_c, sum(r.give_cost)::bigint AS give_c
  FROM r, unnest(r.counter_ids) AS cid
  GROUP BY cid
), lk AS (
  SELECT qc.id FROM providers.quota_counters qc JOIN per ON per.cid = qc.id ORDER BY qc.id FOR UPDATE OF qc
), c AS (
  UPDATE providers.quota_counters qc
  SET tokens_used = qc.tokens_used + per.used_t,
      tokens_reserved = greatest(qc.tokens_reserved - per.give_t, 0),
      cost_used_micros = qc.cost_used_micros + per.used_c,
      cost_reserved_micros = greatest(qc.cost_reserved_micros - per.give_c, 0)
  FROM per JOIN lk ON lk.id = per.cid
  WHERE qc.id = per.cid
  RETURNING qc.id
), u AS (
  -- One row per (user, provider, model, day): the same key twice in one INSERT … ON CONFLICT would fail.
  INSERT INTO providers.usage_tracking AS ut (org_id, user_id, provider, model, day, requests, prompt_tokens, completion_tokens, cost_micros)
  SELECT (array_agg(r.org_id ORDER BY r.request_id))[1], r.user_id, r.provider, r.model, r.day,
         count(*), sum(r.prompt_tokens)::bigint, sum(r.completion_tokens)::bigint, sum(r.cost_micros)::bigint
  FROM r
  GROUP BY r.user_id, r.provider, r.model, r.day
  ORDER BY r.user_id, r.provider, r.model, r.day
  ON CONFLICT (user_id, provider, model, day) DO UPDATE
  SET requests = ut.requests + EXCLUDED.requests, prompt_tokens = ut.prompt_tokens + EXCLUDED.prompt_tokens,
      completion_tokens = ut.completion_tokens + EXCLUDED.completion_tokens, cost_micros = ut.cost_micros + EXCLUDED.cost_micros
  RETURNING 1
), o AS (
  INSERT INTO ops.outbox (event_id, stream, org_id, occurred_at, payload)
  SELECT r.event_id, 'request_logs', r.org_id, r.occurred_at, r.payload || jsonb_build_object('org_id', r.org_id, 'user_id', r.user_id)
  FROM r
  ORDER BY r.event_id
  ON CONFLICT (event_id) DO NOTHING
  RETURNING 1
)
SELECT i.request_id, s.request_id IS NOT NULL,
  -- Whether a cost alert could fire now for this caller: without one (the usual case) no evaluation follows.
  s.request_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM providers.cost_alerts a WHERE a.org_id = i.org_id AND a.enabled AND (a.user_id IS NULL OR a.user_id = i.user_id))
FROM items i LEFT JOIN r s ON s.request_id = i.request_id;
END
$$;
