-- Back to the paths 0000, 0002 and 0010 pinned (without pg_temp: the unsafe form; only for rollback).
ALTER FUNCTION public.lattice_audit_row_change() SET search_path = pg_catalog, public;
--> statement-breakpoint
ALTER FUNCTION providers.authenticate_api_key(text) SET search_path = pg_catalog, providers;
--> statement-breakpoint
ALTER FUNCTION providers.settle_batch(jsonb) SET search_path = pg_catalog, providers;
