-- providers: serve windows are renewed by the full lease statement only (store.ts ACQUIRE), and a
-- window's journal and leased settles are two transactions again, as before 0014.
DROP FUNCTION IF EXISTS providers.settle_leased_window(jsonb, jsonb);
--> statement-breakpoint
DROP FUNCTION IF EXISTS providers.renew_leases(text, uuid[], timestamptz, timestamptz);
