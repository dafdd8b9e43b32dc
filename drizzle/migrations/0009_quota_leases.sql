CREATE TABLE "providers"."quota_leases" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"counter_id" uuid NOT NULL,
	"holder" text NOT NULL,
	"tokens_held" bigint DEFAULT 0 NOT NULL,
	"cost_held_micros" bigint DEFAULT 0 NOT NULL,
	"serve_until" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "quota_leases_holder_check" CHECK (char_length("providers"."quota_leases"."holder") BETWEEN 1 AND 200),
	CONSTRAINT "quota_leases_tokens_held_check" CHECK ("providers"."quota_leases"."tokens_held" >= 0),
	CONSTRAINT "quota_leases_cost_held_check" CHECK ("providers"."quota_leases"."cost_held_micros" >= 0),
	CONSTRAINT "quota_leases_expiry_check" CHECK ("providers"."quota_leases"."expires_at" >= "providers"."quota_leases"."serve_until")
);
--> statement-breakpoint
ALTER TABLE "providers"."quota_counters" ADD COLUMN "tokens_leased" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "providers"."quota_counters" ADD COLUMN "cost_leased_micros" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "providers"."quota_leases" ADD CONSTRAINT "quota_leases_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "providers"."quota_leases" ADD CONSTRAINT "quota_leases_counter_id_fk" FOREIGN KEY ("counter_id") REFERENCES "providers"."quota_counters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "quota_leases_counter_id_holder_uq" ON "providers"."quota_leases" USING btree ("counter_id","holder");--> statement-breakpoint
CREATE INDEX "quota_leases_expires_at_idx" ON "providers"."quota_leases" USING btree ("expires_at");--> statement-breakpoint
ALTER TABLE "providers"."quota_counters" ADD CONSTRAINT "quota_counters_tokens_leased_check" CHECK ("providers"."quota_counters"."tokens_leased" >= 0);--> statement-breakpoint
ALTER TABLE "providers"."quota_counters" ADD CONSTRAINT "quota_counters_cost_leased_check" CHECK ("providers"."quota_counters"."cost_leased_micros" >= 0);
-- ===== hand-written =====
-- Gateway instances take, renew and return their leases in tenant transactions (RLS by org_id); the
-- expiry job (owner) reclaims expired ones. No audit rows: leases change several times a second.
SELECT public.lattice_apply_conventions('providers.quota_leases', audited => false, privileges => 'SELECT, INSERT, UPDATE, DELETE');
