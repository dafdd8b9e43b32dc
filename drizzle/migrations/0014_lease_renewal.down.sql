-- providers: serve windows are renewed by the full lease statement only (store.ts ACQUIRE), as before 0014.
DROP FUNCTION IF EXISTS providers.renew_leases(text, uuid[], timestamptz, timestamptz);
