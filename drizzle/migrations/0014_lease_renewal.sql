-- 1. providers.renew_leases: a holder's serve windows renewed ahead of time, for every tenant it serves, in
-- ONE statement (functions/providers/service/leases/renewal.ts). Hand-written, no table changes.
--
-- Before, a serve window (2 s) ended for every (instance, tenant) and the next call waited for a full
-- lease statement (ACQUIRE, store.ts) whose only news, with limits unchanged, was "same limits". With 25
-- organizations on four instances that was 448 lease statements for 1,600 calls (bench log,
-- 2026-12-03), each call behind one waiting for it. Now, once a counter is in the second half of its
-- window, a call served from it queues the counter for renewal; the instance sends the queued counters
-- of all its tenants at once. For each counter the answer is its current limits (read, not locked) and
-- whether the holder's lease was renewed. The holder extends serving only where the limits it holds
-- are the ones read (a changed limit makes the next call take the full lease statement, which resizes):
-- an admin's new limit still binds within one serve window.
--
-- The answer also carries each counter's room as this statement reads it (limit − used − reserved − the
-- other holders' leases): a holder whose unused slice is well beyond what the full statement would let
-- it keep now (its recent demand, or a share of a shrinking room) does not extend, so the full statement
-- gives the excess back at the window's end, as it did before renewals existed, instead of a holder that
-- keeps serving small calls keeping a burst's slice that other instances are refused for.
--
-- Renewing moves no allowance: serve_until and expires_at only, so the invariant every lease statement
-- keeps (used + reserved + leased ≤ limit, judged under the counter lock) is untouched, and no counter
-- row is locked. Lease rows are taken FOR UPDATE SKIP LOCKED: this statement waits for no lock, so it
-- can neither deadlock nor stall behind the holder's own lease statements or the expiry job. A skipped
-- lease is simply not renewed this time; its holder's next call takes the full lease statement if the
-- window ends meanwhile. A lease past expires_at that the job has not reclaimed yet is renewed like any
-- other (its holder is alive: it asked): the job's locking read re-checks expires_at on the latest
-- version and leaves it, or it deleted the row first and nothing is renewed, both consistent with what
-- the holder then believes.
--
-- Why SECURITY DEFINER: as settle_leased_batch, one statement for the counters of every tenant the
-- instance serves (RLS admits one org per transaction). It reads limits of the counters named and
-- extends leases of the holder named, capped at a day: nothing the application role could not do
-- with app.org_id set to each org in turn.
CREATE FUNCTION providers.renew_leases(p_holder text, p_counters uuid[], p_serve_until timestamptz, p_expires_at timestamptz)
RETURNS TABLE (counter_id uuid, token_limit bigint, cost_limit_micros bigint, lease_id uuid, room_t bigint, room_c bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, providers, pg_temp AS $$
#variable_conflict use_column
DECLARE
  v_expires timestamptz := least(p_expires_at, now() + interval '1 day');
BEGIN
  RETURN QUERY
  WITH mine AS (
    SELECT ql.id FROM providers.quota_leases ql
    WHERE ql.holder = p_holder AND ql.counter_id = ANY (p_counters)
    ORDER BY ql.id
    FOR UPDATE SKIP LOCKED
  ), renewed AS (
    UPDATE providers.quota_leases ql
    SET serve_until = least(p_serve_until, v_expires), expires_at = greatest(ql.expires_at, v_expires)
    FROM mine WHERE ql.id = mine.id
    RETURNING ql.id, ql.counter_id, ql.tokens_held, ql.cost_held_micros
  )
  SELECT qc.id, qc.token_limit, qc.cost_limit_micros, r.id,
         qc.token_limit - qc.tokens_used - qc.tokens_reserved - (qc.tokens_leased - coalesce(r.tokens_held, 0)),
         qc.cost_limit_micros - qc.cost_used_micros - qc.cost_reserved_micros - (qc.cost_leased_micros - coalesce(r.cost_held_micros, 0))
  FROM providers.quota_counters qc LEFT JOIN renewed r ON r.counter_id = qc.id
  WHERE qc.id = ANY (p_counters);
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION providers.renew_leases(text, uuid[], timestamptz, timestamptz) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION providers.renew_leases(text, uuid[], timestamptz, timestamptz) TO lattice_app;
--> statement-breakpoint
-- 2. providers.settle_leased_window: a settle window's journal entries and leased settles in ONE
-- transaction (settle-batcher.ts), where they were two side by side. Under load spread over several
-- instances each window holds a few calls of each kind, and the two commits were most of the database's
-- work per call (four instances, 25 organizations: 701 journal and 568 settle transactions for 1,900
-- calls). Journal first, then the settles; their rows are different calls (an entry whose settle is in
-- the batch is dropped before), so the order adds no lock cycle. Both functions are SECURITY DEFINER
-- already; this one grants nothing more than calling both.
CREATE FUNCTION providers.settle_leased_window(p_journal jsonb, p_items jsonb)
RETURNS TABLE (request_id text, settled boolean, alerts boolean, consumed jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, providers, pg_temp AS $$
BEGIN
  PERFORM providers.journal_leased(p_journal);
  RETURN QUERY SELECT b.request_id, b.settled, b.alerts, b.consumed FROM providers.settle_leased_batch(p_items) b;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION providers.settle_leased_window(jsonb, jsonb) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION providers.settle_leased_window(jsonb, jsonb) TO lattice_app;
