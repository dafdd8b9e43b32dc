DROP TRIGGER IF EXISTS users_bump_token_version ON auth.users;
DROP FUNCTION IF EXISTS auth.users_bump_token_version();
ALTER TABLE "auth"."users" DROP CONSTRAINT IF EXISTS "users_token_version_check";
ALTER TABLE "auth"."users" DROP COLUMN IF EXISTS "token_version";
