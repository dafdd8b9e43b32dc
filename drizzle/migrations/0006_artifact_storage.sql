ALTER TABLE "production"."artifacts" ADD COLUMN "status" text DEFAULT 'pending' NOT NULL;--> statement-breakpoint
ALTER TABLE "production"."artifacts" ADD CONSTRAINT "artifacts_status_check" CHECK ("production"."artifacts"."status" in ('pending', 'available'));--> statement-breakpoint
ALTER TABLE "production"."artifacts" ADD CONSTRAINT "artifacts_available_check" CHECK ("production"."artifacts"."status" <> 'available' or "production"."artifacts"."verified_at" is not null);

-- ===== hand-written =====
-- Rows registered before this migration stay pending, verified or not: their content was hashed on
-- upload but never stored, so there is nothing to download. They expire like any other artifact.
