-- providers: keys no longer carry a drop_params preference (requests still may send drop_params: true).
ALTER TABLE "providers"."user_providers" DROP COLUMN IF EXISTS "drop_params";
