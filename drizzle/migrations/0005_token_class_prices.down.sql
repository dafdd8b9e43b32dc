-- providers: back to one input and one output price per model, and no per-key output cap (the CHECKs go with their columns).
ALTER TABLE "providers"."user_providers" DROP COLUMN IF EXISTS "default_max_output_tokens";
ALTER TABLE "providers"."provider_models" DROP COLUMN IF EXISTS "reasoning_price_micros_per_mtok";
ALTER TABLE "providers"."provider_models" DROP COLUMN IF EXISTS "cache_write_price_micros_per_mtok";
ALTER TABLE "providers"."provider_models" DROP COLUMN IF EXISTS "cached_input_price_micros_per_mtok";
