ALTER TABLE "auth"."users" ADD COLUMN "token_version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "auth"."users" ADD CONSTRAINT "users_token_version_check" CHECK ("auth"."users"."token_version" > 0);
--> statement-breakpoint

-- ===== hand-written =====
-- Access tokens name the token_version they were issued under (functions/shared/security/revocation.ts).
-- Whatever changes what a token grants moves it, whoever makes the change (API, job or operator SQL),
-- so a demoted, disabled, moved or re-passworded user's tokens stop within the per-instance cache time.
CREATE FUNCTION auth.users_bump_token_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.role IS DISTINCT FROM OLD.role
     OR NEW.status IS DISTINCT FROM OLD.status
     OR NEW.is_platform_admin IS DISTINCT FROM OLD.is_platform_admin
     OR NEW.password_hash IS DISTINCT FROM OLD.password_hash
     OR NEW.org_id IS DISTINCT FROM OLD.org_id
     OR NEW.deleted_at IS DISTINCT FROM OLD.deleted_at THEN
    NEW.token_version := greatest(NEW.token_version, OLD.token_version + 1);
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER users_bump_token_version BEFORE UPDATE ON auth.users
  FOR EACH ROW EXECUTE FUNCTION auth.users_bump_token_version();
