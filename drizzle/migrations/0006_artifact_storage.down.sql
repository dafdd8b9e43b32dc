-- production.artifacts.status and its checks; verified_at still records which rows were verified.
ALTER TABLE "production"."artifacts" DROP CONSTRAINT IF EXISTS "artifacts_available_check";
ALTER TABLE "production"."artifacts" DROP CONSTRAINT IF EXISTS "artifacts_status_check";
ALTER TABLE "production"."artifacts" DROP COLUMN IF EXISTS "status";
