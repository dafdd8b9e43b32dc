ALTER TABLE "providers"."provider_models" ADD COLUMN "cached_input_price_micros_per_mtok" bigint;--> statement-breakpoint
ALTER TABLE "providers"."provider_models" ADD COLUMN "cache_write_price_micros_per_mtok" bigint;--> statement-breakpoint
ALTER TABLE "providers"."provider_models" ADD COLUMN "reasoning_price_micros_per_mtok" bigint;--> statement-breakpoint
ALTER TABLE "providers"."user_providers" ADD COLUMN "default_max_output_tokens" integer;--> statement-breakpoint
ALTER TABLE "providers"."provider_models" ADD CONSTRAINT "provider_models_cached_input_price_check" CHECK ("providers"."provider_models"."cached_input_price_micros_per_mtok" IS NULL OR "providers"."provider_models"."cached_input_price_micros_per_mtok" >= 0);--> statement-breakpoint
ALTER TABLE "providers"."provider_models" ADD CONSTRAINT "provider_models_cache_write_price_check" CHECK ("providers"."provider_models"."cache_write_price_micros_per_mtok" IS NULL OR "providers"."provider_models"."cache_write_price_micros_per_mtok" >= 0);--> statement-breakpoint
ALTER TABLE "providers"."provider_models" ADD CONSTRAINT "provider_models_reasoning_price_check" CHECK ("providers"."provider_models"."reasoning_price_micros_per_mtok" IS NULL OR "providers"."provider_models"."reasoning_price_micros_per_mtok" >= 0);--> statement-breakpoint
ALTER TABLE "providers"."user_providers" ADD CONSTRAINT "user_providers_default_max_output_tokens_check" CHECK ("providers"."user_providers"."default_max_output_tokens" IS NULL OR "providers"."user_providers"."default_max_output_tokens" BETWEEN 1 AND 10000000);--> statement-breakpoint
-- List prices per token class (micro-dollars per million tokens) for the seeded catalog models:
-- cached input (openai.com/api/pricing, ai.google.dev/gemini-api/docs/pricing "context caching"),
-- Anthropic cache reads 0.1x and 5-minute cache writes 1.25x the input price
-- (docs.anthropic.com/en/docs/build-with-claude/prompt-caching#pricing). Reasoning is billed as output
-- by all three, so it stays null (= the output price).
UPDATE "providers"."provider_models" AS m
SET "cached_input_price_micros_per_mtok" = v.cached, "cache_write_price_micros_per_mtok" = v.write
FROM (VALUES
  ('openai', 'gpt-4o-mini', 75000::bigint, NULL::bigint),
  ('openai', 'gpt-4o', 1250000, NULL),
  ('openai', 'gpt-4.1-mini', 100000, NULL),
  ('anthropic', 'claude-3-5-haiku-latest', 80000, 1000000),
  ('anthropic', 'claude-sonnet-4-0', 300000, 3750000),
  ('gemini', 'gemini-2.0-flash', 25000, NULL),
  ('gemini', 'gemini-2.5-pro', 125000, NULL)
) AS v(provider_id, model, cached, write)
WHERE m.provider_id = v.provider_id AND m.model = v.model AND m.cached_input_price_micros_per_mtok IS NULL;
