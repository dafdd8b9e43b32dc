CREATE TABLE "auth"."session_tokens" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"session_id" uuid NOT NULL,
	"family_id" uuid NOT NULL,
	"org_id" uuid NOT NULL,
	"retired_at" timestamp with time zone NOT NULL,
	CONSTRAINT "session_tokens_token_hash_check" CHECK ("auth"."session_tokens"."token_hash" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
ALTER TABLE "auth"."session_tokens" ADD CONSTRAINT "session_tokens_session_id_fk" FOREIGN KEY ("session_id") REFERENCES "auth"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth"."session_tokens" ADD CONSTRAINT "session_tokens_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "projects"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "session_tokens_session_id_idx" ON "auth"."session_tokens" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "session_tokens_org_id_idx" ON "auth"."session_tokens" USING btree ("org_id");--> statement-breakpoint

-- ===== hand-written =====
-- Same conventions as auth.sessions (grants, RLS tenant_isolation on org_id); retired hashes are
-- technical, high-volume rows without updated_at: not audited, no updated_at trigger.
SELECT public.lattice_apply_conventions('auth.session_tokens', audited => false, has_updated_at => false);

-- Sessions rotated before this migration keep reuse detection for the one hash they remember.
INSERT INTO auth.session_tokens (token_hash, session_id, family_id, org_id, retired_at)
SELECT previous_token_hash, id, family_id, org_id, rotated_at
FROM auth.sessions
WHERE previous_token_hash IS NOT NULL
ON CONFLICT (token_hash) DO NOTHING;
