-- providers: quota leases. Whatever live leases held goes back to their counters with the columns.
DROP TABLE IF EXISTS "providers"."quota_leases";
ALTER TABLE "providers"."quota_counters" DROP CONSTRAINT IF EXISTS "quota_counters_cost_leased_check";
ALTER TABLE "providers"."quota_counters" DROP CONSTRAINT IF EXISTS "quota_counters_tokens_leased_check";
ALTER TABLE "providers"."quota_counters" DROP COLUMN IF EXISTS "cost_leased_micros";
ALTER TABLE "providers"."quota_counters" DROP COLUMN IF EXISTS "tokens_leased";
