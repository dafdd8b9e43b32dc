-- Group-commit reservations, and both batch functions in PL/pgSQL. Hand-written, no table changes.
--
-- 1. providers.reserve_batch(jsonb): the gateway's reservations of ANY tenants in one statement (one
--    transaction, one WAL flush), for functions/providers/service/reserve-batcher.ts. Exact like the
--    one-call RESERVE of quota.ts: every counter of the batch is locked first, ONCE, in id order (the
--    order reserve, settle_batch and the expiry job lock them in, so concurrent batches cannot
--    deadlock); then each call, in the order given, is judged on the counters as the calls before it
--    left them and, when all four admit it, its reservation row is inserted and the counters raised.
--    A call is refused (nothing written for it) as soon as one counter cannot take its worst case; the
--    room it leaves stays for the calls after it, so batching never refuses a call that fits.
--    Admission also counts what live quota leases hold (tokens_leased / cost_leased_micros), so an
--    instance reserving rows and one serving from leases cannot together pass a limit.
--    Why SECURITY DEFINER: as settle_batch (0010), the batch spans orgs, which the app role's RLS (one
--    app.org_id per transaction) cannot admit. The caller states org and user per call; that grants
--    nothing new: the app role may already set app.org_id to any organization (shared/db/round-trip.ts tenantSql), the
--    gateway takes both from the authenticated principal. Verdicts: ok, refused (with the counter that
--    refused, to name the limit), missing (the period's counters did not exist when the batch locked its rows: the caller creates
--    them in a transaction of its own and tries again), duplicate (the request id is taken).
--
-- 2. settle_batch keeps its statement and becomes PL/pgSQL: a LANGUAGE sql function that is not
--    inlined (SECURITY DEFINER ones never are) parses and plans its body on every call: a settle batch
--    of one call cost 1.3–1.5 ms of database CPU as LANGUAGE sql and 0.9 ms as PL/pgSQL here (measured
--    2026-12-03, BENCHMARKS.md); PL/pgSQL keeps each statement's plan for the session (PostgreSQL docs,
--    plpgsql-implementation "Plan Caching").
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
--> statement-breakpoint
CREATE FUNCTION providers.reserve_batch(p_items jsonb)
RETURNS TABLE (
  request_id text, verdict text, subject_type text, period text, token_limit bigint, tokens_used bigint, tokens_reserved bigint,
  cost_limit_micros bigint, cost_used_micros bigint, cost_reserved_micros bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, providers, pg_temp AS $$
#variable_conflict use_column
DECLARE
  it record;
  locked uuid[];
  ids uuid[];
  bad record;
BEGIN
  -- One organization's counter held elsewhere (an admin's quota change, a stuck transaction) must not
  -- hold up every tenant of the batch for long: past this the batch fails with 55P03 and the caller
  -- splits it by organization (reserve-batcher.ts). For this transaction only.
  PERFORM set_config('lock_timeout', '2s', true);
  -- Only the counters locked here are judged: a counter another transaction creates after this point
  -- (a period's first calls) is not locked by this batch, so its calls answer 'missing' and go again in
  -- a later batch, which locks it. Judging it unlocked would read a stale total and could pass a limit.
  SELECT array_agg(s.id) INTO locked FROM (
    SELECT c.id
    FROM providers.quota_counters c
    JOIN (SELECT DISTINCT x.org_id, x.user_id, x.day, x.month
          FROM jsonb_to_recordset(p_items) AS x(org_id uuid, user_id uuid, day date, month date)) k
      ON c.org_id = k.org_id
     AND ((c.subject_type = 'user' AND c.subject_id = k.user_id) OR (c.subject_type = 'org' AND c.subject_id = k.org_id))
     AND ((c.period = 'daily' AND c.period_start = k.day) OR (c.period = 'monthly' AND c.period_start = k.month))
    ORDER BY c.id
    FOR UPDATE OF c
  ) s;

  FOR it IN
    SELECT x.*
    FROM ROWS FROM (jsonb_to_recordset(p_items) AS (
      request_id text, org_id uuid, user_id uuid, day date, month date, tokens bigint, cost bigint, ttl double precision))
      WITH ORDINALITY AS x(request_id, org_id, user_id, day, month, tokens, cost, ttl, ord)
    ORDER BY x.ord
  LOOP
    SELECT array_agg(c.id ORDER BY c.id) INTO ids
    FROM providers.quota_counters c
    WHERE c.id = ANY (locked)
      AND c.org_id = it.org_id
      AND ((c.subject_type = 'user' AND c.subject_id = it.user_id) OR (c.subject_type = 'org' AND c.subject_id = it.org_id))
      AND ((c.period = 'daily' AND c.period_start = it.day) OR (c.period = 'monthly' AND c.period_start = it.month));
    IF coalesce(array_length(ids, 1), 0) < 4 THEN
      RETURN QUERY SELECT it.request_id, 'missing'::text, NULL::text, NULL::text, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint;
      CONTINUE;
    END IF;

    SELECT c.subject_type, c.period, c.token_limit, c.tokens_used, c.tokens_reserved + c.tokens_leased AS tokens_reserved,
           c.cost_limit_micros, c.cost_used_micros, c.cost_reserved_micros + c.cost_leased_micros AS cost_reserved_micros
    INTO bad
    FROM providers.quota_counters c
    WHERE c.id = ANY (ids)
      AND NOT ((c.token_limit IS NULL OR c.tokens_used + c.tokens_reserved + c.tokens_leased + it.tokens <= c.token_limit)
           AND (c.cost_limit_micros IS NULL OR c.cost_used_micros + c.cost_reserved_micros + c.cost_leased_micros + it.cost <= c.cost_limit_micros))
    -- Name a counter whose usage alone leaves no room first: its refusal holds until the period ends
    -- (Retry-After says so); one full only of calls in flight frees up within seconds.
    ORDER BY ((c.token_limit IS NOT NULL AND c.tokens_used + it.tokens > c.token_limit)
           OR (c.cost_limit_micros IS NOT NULL AND c.cost_used_micros + it.cost > c.cost_limit_micros)) DESC, c.id
    LIMIT 1;
    IF FOUND THEN
      RETURN QUERY SELECT it.request_id, 'refused'::text, bad.subject_type, bad.period, bad.token_limit, bad.tokens_used, bad.tokens_reserved,
        bad.cost_limit_micros, bad.cost_used_micros, bad.cost_reserved_micros;
      CONTINUE;
    END IF;

    INSERT INTO providers.quota_reservations (request_id, org_id, user_id, tokens_reserved, cost_reserved_micros, counter_ids, expires_at)
    VALUES (it.request_id, it.org_id, it.user_id, it.tokens, it.cost, ids, now() + make_interval(secs => it.ttl))
    ON CONFLICT (request_id) DO NOTHING;
    IF NOT FOUND THEN
      RETURN QUERY SELECT it.request_id, 'duplicate'::text, NULL::text, NULL::text, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint;
      CONTINUE;
    END IF;

    UPDATE providers.quota_counters c
    SET tokens_reserved = c.tokens_reserved + it.tokens, cost_reserved_micros = c.cost_reserved_micros + it.cost
    WHERE c.id = ANY (ids);
    RETURN QUERY SELECT it.request_id, 'ok'::text, NULL::text, NULL::text, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint;
  END LOOP;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION providers.reserve_batch(jsonb) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION providers.reserve_batch(jsonb) TO lattice_app;
