ALTER TABLE "providers"."quota_reservations" DROP CONSTRAINT "quota_reservations_state_check";--> statement-breakpoint
ALTER TABLE "providers"."quota_reservations" DROP CONSTRAINT "quota_reservations_settled_at_check";--> statement-breakpoint
DROP INDEX "providers"."quota_reservations_expires_at_idx";--> statement-breakpoint
CREATE INDEX "quota_reservations_expires_at_idx" ON "providers"."quota_reservations" USING btree ("expires_at") WHERE "providers"."quota_reservations"."state" IN ('reserved', 'leased');--> statement-breakpoint
ALTER TABLE "providers"."quota_reservations" ADD CONSTRAINT "quota_reservations_state_check" CHECK ("providers"."quota_reservations"."state" IN ('reserved', 'leased', 'settled', 'released'));--> statement-breakpoint
ALTER TABLE "providers"."quota_reservations" ADD CONSTRAINT "quota_reservations_settled_at_check" CHECK (("providers"."quota_reservations"."state" IN ('reserved', 'leased')) = ("providers"."quota_reservations"."settled_at" IS NULL));--> statement-breakpoint
-- ===== hand-written =====
-- The journal of calls served from quota leases (functions/providers/service/settle-batcher.ts
-- journal()). A leased call reserves nothing in PostgreSQL before it goes upstream (that is the point
-- of leases), so without a row an instance SIGKILLed mid-call would leave nothing to report the call
-- by. Each leased call now gets a quota_reservations row in state 'leased', written in the instance's
-- next settle batch window, in parallel with the upstream call (never on the answer's path):
--   - tokens_reserved / cost_reserved_micros are the call's worst case, for the report only: the
--     allowance itself sits in the lease (quota_leases), so no counter moves here or when the row ends;
--   - the leased settle (leases/settle.ts) turns the row 'settled' (or inserts it settled when its
--     settle reached the database first, and then this insert does nothing);
--   - the expiry job (maintenance.ts releaseExpiredReservations) marks a 'leased' row past expires_at
--     'released' and reports it by request id, exactly as an expired reservation row, without touching
--     counters (the expired lease's allowance goes back through reclaimExpiredLeases).
-- Why SECURITY DEFINER: as settle_batch and reserve_batch, one statement for the calls of every tenant
-- in the batch; the caller states org and user, which grants nothing the app role lacks.
CREATE FUNCTION providers.journal_leased(p_items jsonb)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, providers, pg_temp AS $$
DECLARE
  n integer;
BEGIN
  INSERT INTO providers.quota_reservations (request_id, org_id, user_id, state, tokens_reserved, cost_reserved_micros, counter_ids, expires_at)
  -- expires_at is capped at a day (the gateway asks for the reservation TTL, minutes): a caller cannot
  -- plant a row the expiry job would never report.
  SELECT x.request_id, x.org_id, x.user_id, 'leased', x.tokens, x.cost, x.counter_ids, least(x.expires_at, now() + interval '1 day')
  FROM jsonb_to_recordset(p_items) AS x(request_id text, org_id uuid, user_id uuid, tokens bigint, cost bigint, counter_ids uuid[], expires_at timestamptz)
  ORDER BY x.request_id
  ON CONFLICT (request_id) DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION providers.journal_leased(jsonb) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION providers.journal_leased(jsonb) TO lattice_app;
--> statement-breakpoint
-- providers.settle_leased_batch(jsonb): the leased settles of a batch, of ANY tenants, in one statement
-- (settle-batcher.ts), as settle_batch does for reservation rows; before, a batch cost one transaction
-- per organization, which made 25 organizations cost 1.7× the database CPU of one (BENCHMARKS.md).
-- Per call, exactly once by request id, what leases/settle.ts SETTLE_LEASED does for one call:
--   - its row becomes 'settled' (inserted, or updated from 'leased' / 'released' when org and user
--     match; a settled row is left as it is and the call answers settled = false);
--   - each lease it came from gives up least(what the call takes, what the lease still holds after the
--     batch's earlier calls, in request-id order), and its counter's leased drops by the same amount;
--   - every counter gets used += the call's usage (one update per counter for the whole batch);
--   - usage_tracking and the request-log outbox row, as settle_batch.
-- Lock order, one statement after the other: the calls' reservation rows (request-id order, as
-- journal_leased and the expiry job take rows first), then the counters in id order, then the lease
-- rows, usage_tracking and the outbox: the order of every statement on these rows (ACQUIRE and
-- give-back lock counters, then leases; the expiry job rows, then counters; settle_batch, below, and
-- the one-call settles rows, counters, usage). Separate statements because within one the order is not
-- ours to choose: "the sub-statements in WITH are executed concurrently with each other and with the
-- main query [...] the order in which the specified updates actually happen is unpredictable"
-- (PostgreSQL docs, queries-with.html, "Data-Modifying Statements in WITH"). As one statement, a batch
-- whose calls held no lease wrote usage rows before it locked the counters, and beside one that did the
-- opposite it deadlocked (40 in one bench run; none in the two runs since).
-- Only counters of the org each call names are touched, and only leases of those counters and org.
CREATE FUNCTION providers.settle_leased_batch(p_items jsonb)
RETURNS TABLE (request_id text, settled boolean, alerts boolean, consumed jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, providers, pg_temp AS $$
#variable_conflict use_column
DECLARE
  done text[];
BEGIN
  -- 1. The calls' rows, in request-id order (as journal_leased inserts them).
  WITH items AS (
    SELECT DISTINCT ON (x.request_id) x.*
    FROM jsonb_to_recordset(p_items) AS x(
      request_id text, org_id uuid, user_id uuid, prompt_tokens bigint, completion_tokens bigint, cost_micros bigint,
      worst_tokens bigint, worst_cost bigint, parts jsonb)
    ORDER BY x.request_id
  ), r AS (
    INSERT INTO providers.quota_reservations AS q (request_id, org_id, user_id, state, tokens_reserved, cost_reserved_micros, tokens_used, cost_used_micros, counter_ids, expires_at, settled_at)
    SELECT i.request_id, i.org_id, i.user_id, 'settled', i.worst_tokens, i.worst_cost, i.prompt_tokens + i.completion_tokens, i.cost_micros,
           ARRAY(SELECT (e->>'counter_id')::uuid FROM jsonb_array_elements(i.parts) e), now(), now()
    FROM items i
    ORDER BY i.request_id
    ON CONFLICT (request_id) DO UPDATE
    SET state = 'settled', tokens_used = EXCLUDED.tokens_used, cost_used_micros = EXCLUDED.cost_used_micros, settled_at = now()
    WHERE q.state IN ('leased', 'released') AND q.org_id = EXCLUDED.org_id AND q.user_id = EXCLUDED.user_id
    RETURNING q.request_id
  )
  SELECT coalesce(array_agg(r.request_id), '{}') INTO done FROM r;

  -- 2. Every counter those calls charge, of the org each names, in id order: a statement of its own, so
  -- the order does not depend on how the planner schedules the CTEs below.
  PERFORM 1 FROM providers.quota_counters qc
  WHERE (qc.id, qc.org_id) IN (
    SELECT (e->>'counter_id')::uuid, x.org_id
    FROM jsonb_to_recordset(p_items) AS x(request_id text, org_id uuid, parts jsonb), jsonb_array_elements(x.parts) e
    WHERE x.request_id = ANY (done))
  ORDER BY qc.id
  FOR UPDATE;

  -- 3. Leases, counters, usage and the request-log rows of the calls settled in 1.
  RETURN QUERY
  WITH items AS (
    SELECT DISTINCT ON (x.request_id) x.*
    FROM jsonb_to_recordset(p_items) AS x(
      request_id text, org_id uuid, user_id uuid, provider text, model text, day date,
      prompt_tokens bigint, completion_tokens bigint, cost_micros bigint, event_id uuid, occurred_at timestamptz, payload jsonb,
      worst_tokens bigint, worst_cost bigint, parts jsonb)
    ORDER BY x.request_id
  ), s AS (
    SELECT i.* FROM items i WHERE i.request_id = ANY (done)
  ), parts AS (
    SELECT s.request_id, s.org_id, p.counter_id, p.lease_id, p.take_t, p.take_c,
           s.prompt_tokens + s.completion_tokens AS used_t, s.cost_micros AS used_c
    FROM s, jsonb_to_recordset(s.parts) AS p(counter_id uuid, lease_id uuid, take_t bigint, take_c bigint)
  ), lk AS (
    -- Locked in 2 already; this reads them at their latest version.
    SELECT qc.id, qc.org_id FROM providers.quota_counters qc
    WHERE (qc.id, qc.org_id) IN (SELECT parts.counter_id, parts.org_id FROM parts)
    ORDER BY qc.id
    FOR UPDATE
  ), ls AS (
    SELECT ql.id, ql.counter_id, ql.org_id, ql.tokens_held, ql.cost_held_micros FROM providers.quota_leases ql
    WHERE ql.id IN (SELECT parts.lease_id FROM parts WHERE parts.lease_id IS NOT NULL) AND ql.counter_id IN (SELECT lk.id FROM lk)
    ORDER BY ql.id
    FOR UPDATE OF ql
  ), took AS (
    SELECT p.request_id, p.lease_id, p.counter_id,
           greatest(0, least(p.take_t, ls.tokens_held - coalesce(sum(p.take_t) OVER w, 0)))::bigint AS t,
           greatest(0, least(p.take_c, ls.cost_held_micros - coalesce(sum(p.take_c) OVER w, 0)))::bigint AS c
    FROM parts p JOIN ls ON ls.id = p.lease_id AND ls.counter_id = p.counter_id AND ls.org_id = p.org_id
    WINDOW w AS (PARTITION BY p.lease_id ORDER BY p.request_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
  ), ul AS (
    UPDATE providers.quota_leases ql SET tokens_held = ql.tokens_held - x.t, cost_held_micros = ql.cost_held_micros - x.c
    FROM (SELECT took.lease_id, sum(took.t)::bigint AS t, sum(took.c)::bigint AS c FROM took GROUP BY took.lease_id) x
    WHERE ql.id = x.lease_id
    RETURNING ql.id
  ), per AS (
    -- Only parts naming a counter of their own call's org: lk holds a counter once ANY call's org owns it.
    SELECT parts.counter_id, sum(parts.used_t)::bigint AS used_t, sum(parts.used_c)::bigint AS used_c
    FROM parts JOIN lk ON lk.id = parts.counter_id AND lk.org_id = parts.org_id
    GROUP BY parts.counter_id
  ), tk AS (
    SELECT took.counter_id, sum(took.t)::bigint AS t, sum(took.c)::bigint AS c FROM took GROUP BY took.counter_id
  ), c AS (
    UPDATE providers.quota_counters qc
    SET tokens_used = qc.tokens_used + per.used_t, cost_used_micros = qc.cost_used_micros + per.used_c,
        tokens_leased = qc.tokens_leased - coalesce(tk.t, 0), cost_leased_micros = qc.cost_leased_micros - coalesce(tk.c, 0)
    FROM per JOIN lk ON lk.id = per.counter_id LEFT JOIN tk ON tk.counter_id = per.counter_id
    WHERE qc.id = per.counter_id
    RETURNING qc.id
  ), u AS (
    -- One row per (user, provider, model, day): the same key twice in one INSERT … ON CONFLICT would fail.
    INSERT INTO providers.usage_tracking AS ut (org_id, user_id, provider, model, day, requests, prompt_tokens, completion_tokens, cost_micros)
    SELECT (array_agg(s.org_id ORDER BY s.request_id))[1], s.user_id, s.provider, s.model, s.day,
           count(*), sum(s.prompt_tokens)::bigint, sum(s.completion_tokens)::bigint, sum(s.cost_micros)::bigint
    FROM s
    GROUP BY s.user_id, s.provider, s.model, s.day
    ORDER BY s.user_id, s.provider, s.model, s.day
    ON CONFLICT (user_id, provider, model, day) DO UPDATE
    SET requests = ut.requests + EXCLUDED.requests, prompt_tokens = ut.prompt_tokens + EXCLUDED.prompt_tokens,
        completion_tokens = ut.completion_tokens + EXCLUDED.completion_tokens, cost_micros = ut.cost_micros + EXCLUDED.cost_micros
    RETURNING 1
  ), o AS (
    INSERT INTO ops.outbox (event_id, stream, org_id, occurred_at, payload)
    SELECT s.event_id, 'request_logs', s.org_id, s.occurred_at, s.payload || jsonb_build_object('org_id', s.org_id, 'user_id', s.user_id)
    FROM s
    ORDER BY s.event_id
    ON CONFLICT (event_id) DO NOTHING
    RETURNING 1
  )
  SELECT i.request_id, s.request_id IS NOT NULL,
    s.request_id IS NOT NULL AND EXISTS (
      SELECT 1 FROM providers.cost_alerts a WHERE a.org_id = i.org_id AND a.enabled AND (a.user_id IS NULL OR a.user_id = i.user_id)),
    coalesce((SELECT jsonb_agg(jsonb_build_object('lease', took.lease_id, 't', took.t, 'c', took.c)) FROM took WHERE took.request_id = i.request_id), '[]'::jsonb)
  FROM items i LEFT JOIN s ON s.request_id = i.request_id;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION providers.settle_leased_batch(jsonb) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION providers.settle_leased_batch(jsonb) TO lattice_app;
--> statement-breakpoint
-- providers.settle_batch (0012's body; reservation rows, GATEWAY_QUOTA_LEASES=off) locks the counters
-- before the usage rows, as the leased batch does: unchanged, it wrote usage_tracking first, and beside a
-- leased batch on the same users it deadlocked (40P01, reproduced by review). The order comes from the
-- one-time filter below, which PostgreSQL evaluates before the main query, while the CTEs nothing reads
-- run after it: the executor's behaviour, which the documentation leaves unspecified (see above). Split
-- into statements like settle_leased_batch if that ever changes; the review's test replays the race.
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
FROM items i LEFT JOIN r s ON s.request_id = i.request_id
-- Read here, so the counters are locked and written in the main query, before usage_tracking and the
-- outbox (CTEs only written run after it): the order settle_leased_batch and the one-call settles use.
WHERE (SELECT count(*) FROM c) >= 0;
END
$$;
