-- providers: settles go back to one statement per call (quota.ts SETTLE).
DROP FUNCTION IF EXISTS providers.settle_batch(jsonb);
