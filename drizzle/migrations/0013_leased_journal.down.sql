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
