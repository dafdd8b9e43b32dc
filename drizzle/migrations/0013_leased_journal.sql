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
