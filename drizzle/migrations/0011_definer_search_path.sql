-- SECURITY DEFINER functions run as their owner, with the search_path they pin. When pg_temp is not
-- named in that path PostgreSQL searches the session's temporary schema FIRST for tables and types, and
-- any role with TEMP (the application role has it) can create a domain there whose CHECK calls its own
-- function: `CREATE DOMAIN pg_temp.date AS pg_catalog.date CHECK (pg_temp.evil(VALUE))` made the
-- unqualified `date` of settle_batch run the caller's code as the owner. Naming pg_temp LAST closes it
-- (PostgreSQL docs, CREATE FUNCTION, "Writing SECURITY DEFINER Functions Safely": "write pg_temp as
-- the last entry in search_path"). test/shared/db/definer.security.test.ts replays the attack and checks
-- every SECURITY DEFINER function of the database ends its path with pg_temp.
ALTER FUNCTION public.lattice_audit_row_change() SET search_path = pg_catalog, public, pg_temp;
--> statement-breakpoint
ALTER FUNCTION providers.authenticate_api_key(text) SET search_path = pg_catalog, providers, pg_temp;
--> statement-breakpoint
ALTER FUNCTION providers.settle_batch(jsonb) SET search_path = pg_catalog, providers, pg_temp;
