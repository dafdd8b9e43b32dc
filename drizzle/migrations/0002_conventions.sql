-- Hand-written: what drizzle-kit cannot express. Conventions (triggers, RLS, grants), partitions,
-- immutability, views and security-definer lookups, one section per schema.

-- ===== audits =====
-- audits: hash-at-insert, immutability, monthly partitions, read-only RLS, stats view.
-- Requires the generated CREATE TABLE audits.audit_log (...) PARTITION BY RANGE (occurred_at).

-- BEFORE INSERT: normalises occurred_at to milliseconds (so JavaScript's Date#toISOString() reproduces it
-- exactly), pins txid to the inserting transaction (seal ordering must not be caller-controlled), and
-- computes row_hash. The formula is the contract with the TypeScript verifier (scripts/audit-verify.ts);
-- change both together. Truncating to milliseconds never crosses a partition bound (bounds are whole months).
CREATE FUNCTION audits.audit_log_row_hash() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
  NEW.occurred_at := date_trunc('milliseconds', NEW.occurred_at, 'UTC');
  NEW.txid := pg_current_xact_id()::text::bigint;
  NEW.row_hash := encode(sha256(convert_to(concat_ws('|',
    NEW.id::text,
    to_char(NEW.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    NEW.txid::text,
    coalesce(NEW.org_id::text, ''),
    coalesce(NEW.actor_id::text, ''),
    NEW.action,
    NEW.table_schema,
    NEW.table_name,
    coalesce(NEW.row_id, ''),
    coalesce(NEW.old_data::text, ''),
    coalesce(NEW.new_data::text, '')
  ), 'UTF8')), 'hex');
  RETURN NEW;
END
$$;

-- Row triggers on the partitioned table are cloned onto every partition, present and future (PG13+).
CREATE TRIGGER row_hash BEFORE INSERT ON audits.audit_log
  FOR EACH ROW EXECUTE FUNCTION audits.audit_log_row_hash();
CREATE TRIGGER reject_mutation BEFORE UPDATE OR DELETE ON audits.audit_log
  FOR EACH ROW EXECUTE FUNCTION public.lattice_reject_mutation();
-- Statement triggers are not cloned: this one covers TRUNCATE audits.audit_log; ensure_audit_partitions()
-- adds the same trigger to each partition for TRUNCATE of a partition by name.
CREATE TRIGGER reject_truncate BEFORE TRUNCATE ON audits.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION public.lattice_reject_mutation();

-- Monthly partitions audit_log_yYYYYmMM (UTC month bounds) for the current month and months_ahead more.
-- Idempotent; returns how many partitions it created. Deliberately no DEFAULT partition: an insert past the
-- last partition fails loudly instead of piling rows where retention and sealing do not look, so the jobs
-- function must call this regularly (daily is plenty with 3 months ahead).
CREATE FUNCTION audits.ensure_audit_partitions(months_ahead integer DEFAULT 3) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
  first_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
  month_start date;
  part text;
  created integer := 0;
BEGIN
  IF months_ahead IS NULL OR months_ahead < 0 OR months_ahead > 120 THEN
    RAISE EXCEPTION 'months_ahead must be between 0 and 120, got %', months_ahead;
  END IF;
  FOR i IN 0..months_ahead LOOP
    month_start := (first_month + make_interval(months => i))::date;
    part := 'audit_log_y' || to_char(month_start, 'YYYY') || 'm' || to_char(month_start, 'MM');
    IF to_regclass(format('audits.%I', part)) IS NULL THEN
      EXECUTE format(
        'CREATE TABLE IF NOT EXISTS audits.%I PARTITION OF audits.audit_log FOR VALUES FROM (%L) TO (%L)',
        part, month_start::text || ' 00:00:00+00', (month_start + interval '1 month')::date::text || ' 00:00:00+00');
      EXECUTE format(
        'CREATE OR REPLACE TRIGGER reject_truncate BEFORE TRUNCATE ON audits.%I FOR EACH STATEMENT EXECUTE FUNCTION public.lattice_reject_mutation()',
        part);
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END
$$;
REVOKE ALL ON FUNCTION audits.ensure_audit_partitions(integer) FROM PUBLIC;

SELECT audits.ensure_audit_partitions(3);

-- audit_seal is append-only as well; only the sealing job (owner) writes it, the app has no grant.
CREATE TRIGGER reject_mutation BEFORE UPDATE OR DELETE ON audits.audit_seal
  FOR EACH ROW EXECUTE FUNCTION public.lattice_reject_mutation();
CREATE TRIGGER reject_truncate BEFORE TRUNCATE ON audits.audit_seal
  FOR EACH STATEMENT EXECUTE FUNCTION public.lattice_reject_mutation();

-- The app may only read its org's rows. Rows are written by public.lattice_audit_row_change()
-- (SECURITY DEFINER, owner) and by the owner connection; the app has no INSERT/UPDATE/DELETE grant.
-- Grants and RLS sit on the partitioned table; partitions are reachable only through it (no grants on them).
GRANT USAGE ON SCHEMA audits TO lattice_app;
GRANT SELECT ON audits.audit_log TO lattice_app;
ALTER TABLE audits.audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON audits.audit_log FOR SELECT TO lattice_app
  USING (org_id = nullif(current_setting('app.org_id', true), '')::uuid);

-- Per org and UTC month: changes by action. security_invoker: the caller's RLS applies.
CREATE VIEW audits.audit_stats WITH (security_invoker = true) AS
SELECT
  org_id,
  date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date AS month,
  count(*) AS total,
  count(*) FILTER (WHERE action = 'insert') AS inserts,
  count(*) FILTER (WHERE action = 'update') AS updates,
  count(*) FILTER (WHERE action = 'delete') AS deletes,
  count(*) FILTER (WHERE action = 'event') AS events,
  max(occurred_at) AS last_occurred_at
FROM audits.audit_log
GROUP BY org_id, date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date;
GRANT SELECT ON audits.audit_stats TO lattice_app;

-- ===== ops =====
-- ops: platform tables used by jobs through the owner connection (no tenant column, not audited),
-- plus the two things the app role does here: append outbox events and count auth attempts.

-- INSERT only: services append events in their own transaction (no RETURNING: that would need SELECT).
SELECT public.lattice_apply_conventions('ops.outbox', tenant_column => NULL, audited => false, privileges => 'INSERT');
SELECT public.lattice_apply_conventions('ops.job_runs', tenant_column => NULL, audited => false, privileges => 'SELECT');
SELECT public.lattice_apply_conventions('ops.rate_limits', tenant_column => NULL, audited => false, privileges => 'SELECT, INSERT, UPDATE, DELETE');

-- Table health for our schemas (sizes, dead tuples, scan counts). pg_stat_user_tables lists leaf partitions
-- individually. No tenant data, so the app role may read it (health probe).
CREATE VIEW ops.schema_health WITH (security_invoker = true) AS
SELECT
  s.schemaname AS schema_name,
  s.relname AS table_name,
  pg_total_relation_size(s.relid) AS total_bytes,
  pg_relation_size(s.relid) AS table_bytes,
  s.n_live_tup AS live_tuples,
  s.n_dead_tup AS dead_tuples,
  CASE WHEN s.n_live_tup + s.n_dead_tup > 0
    THEN round(100.0 * s.n_dead_tup / (s.n_live_tup + s.n_dead_tup), 1) END AS dead_tuple_percent,
  s.seq_scan,
  s.seq_tup_read,
  s.idx_scan,
  s.n_tup_ins AS inserts,
  s.n_tup_upd AS updates,
  s.n_tup_del AS deletes,
  s.last_vacuum,
  s.last_autovacuum,
  s.last_analyze,
  s.last_autoanalyze
FROM pg_catalog.pg_stat_user_tables s
WHERE s.schemaname IN ('auth', 'projects', 'experiments_v1', 'production', 'quarantine',
                       'providers', 'audits', 'ops', 'analytics');
GRANT SELECT ON ops.schema_health TO lattice_app;

-- Outbox backlog per stream (every stream listed, zero when idle). Runs as the view owner on purpose
-- (no security_invoker): the app role may see these counts for its health probe without reading events.
CREATE VIEW ops.outbox_backlog AS
SELECT
  s.stream,
  count(o.id) FILTER (WHERE o.parked_at IS NULL) AS pending,
  count(o.id) FILTER (WHERE o.parked_at IS NULL AND o.next_attempt_at <= now()) AS due,
  count(o.id) FILTER (WHERE o.parked_at IS NOT NULL) AS parked,
  now() - min(o.occurred_at) FILTER (WHERE o.parked_at IS NULL) AS oldest_pending_age
FROM (VALUES ('request_logs'), ('audit_events'), ('daily_usage'), ('domain_events')) AS s (stream)
LEFT JOIN ops.outbox o ON o.stream = s.stream AND o.delivered_at IS NULL
GROUP BY s.stream;
GRANT SELECT ON ops.outbox_backlog TO lattice_app;

-- ===== projects =====
-- projects: conventions for every table (organizations is keyed by its own id).
SELECT public.lattice_apply_conventions('projects.organizations', tenant_column => 'id');
SELECT public.lattice_apply_conventions('projects.projects');
SELECT public.lattice_apply_conventions('projects.validations', audited => false);
SELECT public.lattice_apply_conventions('projects.project_errors');
SELECT public.lattice_apply_conventions('projects.rollback_checkpoints');
SELECT public.lattice_apply_conventions('projects.versions');
SELECT public.lattice_apply_conventions('projects.baselines');
SELECT public.lattice_apply_conventions('projects.policies');
SELECT public.lattice_apply_conventions('projects.project_policies');
SELECT public.lattice_apply_conventions('projects.version_history');

-- ===== auth =====
-- auth: conventions, append-only audit trail, insert policy for events of unknown accounts.
SELECT public.lattice_apply_conventions('auth.users',
  audit_exclude => ARRAY['password_hash', 'totp_secret_encrypted', 'totp_last_step', 'failed_attempts', 'locked_until', 'last_login_at']);
SELECT public.lattice_apply_conventions('auth.recovery_codes', audited => false);
SELECT public.lattice_apply_conventions('auth.sessions', audited => false);
SELECT public.lattice_apply_conventions('auth.invitations');
SELECT public.lattice_apply_conventions('auth.password_resets', audited => false);
SELECT public.lattice_apply_conventions('auth.audit_logs', audited => false, has_updated_at => false,
  privileges => 'SELECT, INSERT');

-- Auth events are append-only.
CREATE TRIGGER reject_mutation BEFORE UPDATE OR DELETE ON auth.audit_logs
  FOR EACH ROW EXECUTE FUNCTION public.lattice_reject_mutation();
CREATE TRIGGER reject_truncate BEFORE TRUNCATE ON auth.audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION public.lattice_reject_mutation();

-- A failed login for an unknown email has no organization: the application may append such
-- an event (org_id null) without a tenant; it can never read those rows back.
CREATE POLICY insert_without_tenant ON auth.audit_logs FOR INSERT TO lattice_app
  WITH CHECK (org_id IS NULL);

-- ===== experiments_v1 =====
-- experiments_v1: conventions for every table.
SELECT public.lattice_apply_conventions('experiments_v1.experiments');
SELECT public.lattice_apply_conventions('experiments_v1.evaluations');
SELECT public.lattice_apply_conventions('experiments_v1.promotions');
SELECT public.lattice_apply_conventions('experiments_v1.blacklist');
SELECT public.lattice_apply_conventions('experiments_v1.comparison_reports');

-- ===== production =====
-- production: conventions for every table (tasks are technical, high volume: not audited).
SELECT public.lattice_apply_conventions('production.analysis_sessions');
SELECT public.lattice_apply_conventions('production.analysis_tasks', audited => false);
SELECT public.lattice_apply_conventions('production.artifacts');
SELECT public.lattice_apply_conventions('production.code_review_results');

-- ===== quarantine =====
-- quarantine: conventions, read-only records, statistics view.
-- Records are insert-only: no updated_at trigger, the application may only SELECT and INSERT.
SELECT public.lattice_apply_conventions('quarantine.quarantine_records', has_updated_at => false,
  privileges => 'SELECT, INSERT');
SELECT public.lattice_apply_conventions('quarantine.reevaluation_requests');

CREATE TRIGGER reject_mutation BEFORE UPDATE OR DELETE ON quarantine.quarantine_records
  FOR EACH ROW EXECUTE FUNCTION public.lattice_reject_mutation();
CREATE TRIGGER reject_truncate BEFORE TRUNCATE ON quarantine.quarantine_records
  FOR EACH STATEMENT EXECUTE FUNCTION public.lattice_reject_mutation();

-- Per organization. security_invoker: the base tables' RLS applies to the caller, so the
-- application role sees its own organization's row only.
CREATE VIEW quarantine.quarantine_stats WITH (security_invoker = true) AS
SELECT r.org_id,
       r.total_records,
       coalesce(q.pending_requests, 0)  AS pending_requests,
       coalesce(q.approved_requests, 0) AS approved_requests,
       coalesce(q.rejected_requests, 0) AS rejected_requests,
       r.last_quarantined_at
FROM (
  SELECT org_id, count(*) AS total_records, max(created_at) AS last_quarantined_at
  FROM quarantine.quarantine_records
  GROUP BY org_id
) r
LEFT JOIN (
  SELECT org_id,
         count(*) FILTER (WHERE status = 'pending')  AS pending_requests,
         count(*) FILTER (WHERE status = 'approved') AS approved_requests,
         count(*) FILTER (WHERE status = 'rejected') AS rejected_requests
  FROM quarantine.reevaluation_requests
  GROUP BY org_id
) q ON q.org_id = r.org_id;

GRANT SELECT ON quarantine.quarantine_stats TO lattice_app;

-- ===== providers =====
-- providers: conventions, and the API-key lookup that must work before the tenant is known.

-- Platform catalog: read-only to the app; changes (by the owner) are still audited, with org_id null.
SELECT public.lattice_apply_conventions('providers.providers', tenant_column => NULL, privileges => 'SELECT');
SELECT public.lattice_apply_conventions('providers.provider_models', tenant_column => NULL, privileges => 'SELECT');
-- Health is written by the health job (owner connection) and read by the gateway.
SELECT public.lattice_apply_conventions('providers.provider_health', tenant_column => NULL, audited => false, privileges => 'SELECT');
SELECT public.lattice_apply_conventions('providers.provider_health_checks', tenant_column => NULL, audited => false, has_updated_at => false, privileges => 'SELECT');

-- Domain tables users edit.
SELECT public.lattice_apply_conventions('providers.user_providers', audit_exclude => ARRAY['encrypted_key']);
SELECT public.lattice_apply_conventions('providers.user_quotas');
SELECT public.lattice_apply_conventions('providers.cost_alerts');

-- High-volume accounting rows: tenant-isolated, not audited; deletion only by jobs (owner).
SELECT public.lattice_apply_conventions('providers.quota_counters', audited => false, privileges => 'SELECT, INSERT, UPDATE');
SELECT public.lattice_apply_conventions('providers.usage_tracking', audited => false, privileges => 'SELECT, INSERT, UPDATE');
SELECT public.lattice_apply_conventions('providers.quota_reservations', audited => false, privileges => 'SELECT, INSERT, UPDATE');

-- api_keys: audited without the key hash; updates that only move last_used_at write no row
-- (the kernel trigger skips updates whose audited columns are unchanged).
SELECT public.lattice_apply_conventions('providers.api_keys', audit_exclude => ARRAY['key_hash', 'last_used_at']);

-- Gateway authentication: the key's org is what we are trying to learn, so RLS (which needs app.org_id)
-- cannot serve this lookup. SECURITY DEFINER, narrow: exact hash match, live keys only, a few columns.
-- last_used_at is refreshed at most once a minute per key to keep row locks and WAL off the hot path.
CREATE FUNCTION providers.authenticate_api_key(p_key_hash text)
RETURNS TABLE (id uuid, org_id uuid, user_id uuid, name text, prefix text, scopes text[], expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, providers AS $$
BEGIN
  RETURN QUERY
    SELECT k.id, k.org_id, k.user_id, k.name, k.prefix, k.scopes, k.expires_at
    FROM providers.api_keys k
    WHERE k.key_hash = p_key_hash
      AND k.revoked_at IS NULL
      AND (k.expires_at IS NULL OR k.expires_at > now());
  IF FOUND THEN
    UPDATE providers.api_keys k SET last_used_at = now()
    WHERE k.key_hash = p_key_hash
      AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute');
  END IF;
END
$$;
REVOKE ALL ON FUNCTION providers.authenticate_api_key(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION providers.authenticate_api_key(text) TO lattice_app;

-- ===== analytics =====
-- analytics (embedded EventSink): conventions and daily partitions.
-- Requires the generated CREATE TABLEs with PARTITION BY RANGE (occurred_at) for request_logs and
-- audit_events, and PARTITION BY RANGE (day) for daily_usage.

-- Append-only event tables: no updated_at, not audited, tenant-isolated reads; INSERT for a sink running as
-- the app role (its RLS WITH CHECK limits it to the current org; cross-org relays use the owner connection).
SELECT public.lattice_apply_conventions('analytics.request_logs', audited => false, has_updated_at => false, privileges => 'SELECT, INSERT');
SELECT public.lattice_apply_conventions('analytics.audit_events', audited => false, has_updated_at => false, privileges => 'SELECT, INSERT');
SELECT public.lattice_apply_conventions('analytics.daily_usage', audited => false, has_updated_at => false, privileges => 'SELECT, INSERT');

-- Daily partitions <table>_pYYYYMMDD (UTC days) from today - days_back to today + days_ahead, for the three
-- tables. Idempotent; returns how many partitions it created.
-- Unlike audits.audit_log, each table has a DEFAULT partition (<table>_default): an event older than the
-- window or far in the future must never be lost. Because a new partition may not overlap rows already in
-- the default one, a day that already has rows there is built as a plain table, those rows are moved into
-- it, and it is then attached; other days are plain CREATE TABLE ... PARTITION OF.
CREATE FUNCTION analytics.ensure_partitions(days_back integer DEFAULT 7, days_ahead integer DEFAULT 7) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
  today date := (now() AT TIME ZONE 'UTC')::date;
  tbl text;
  col text;
  d date;
  part text;
  lo text;
  hi text;
  stranded boolean;
  created integer := 0;
BEGIN
  IF days_back IS NULL OR days_ahead IS NULL OR days_back < 0 OR days_ahead < 0 OR days_back + days_ahead > 3660 THEN
    RAISE EXCEPTION 'days_back and days_ahead must be >= 0 (and span at most 3660 days), got % and %', days_back, days_ahead;
  END IF;
  -- Two concurrent callers would otherwise race between the existence check and CREATE.
  PERFORM pg_advisory_xact_lock(hashtext('analytics.ensure_partitions'));
  FOREACH tbl IN ARRAY ARRAY['request_logs', 'audit_events', 'daily_usage'] LOOP
    col := CASE tbl WHEN 'daily_usage' THEN 'day' ELSE 'occurred_at' END;
    IF to_regclass(format('analytics.%I', tbl || '_default')) IS NULL THEN
      EXECUTE format('CREATE TABLE analytics.%I PARTITION OF analytics.%I DEFAULT', tbl || '_default', tbl);
      created := created + 1;
    END IF;
    FOR d IN SELECT generate_series(today - days_back, today + days_ahead, interval '1 day')::date LOOP
      part := tbl || '_p' || to_char(d, 'YYYYMMDD');
      CONTINUE WHEN to_regclass(format('analytics.%I', part)) IS NOT NULL;
      IF col = 'day' THEN
        lo := d::text;
        hi := (d + 1)::text;
      ELSE
        lo := d::text || ' 00:00:00+00';
        hi := (d + 1)::text || ' 00:00:00+00';
      END IF;
      EXECUTE format('SELECT EXISTS (SELECT 1 FROM analytics.%I WHERE %I >= %L AND %I < %L)',
        tbl || '_default', col, lo, col, hi) INTO stranded;
      IF stranded THEN
        EXECUTE format('CREATE TABLE analytics.%I (LIKE analytics.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part, tbl);
        EXECUTE format(
          'WITH moved AS (DELETE FROM analytics.%I WHERE %I >= %L AND %I < %L RETURNING *) INSERT INTO analytics.%I SELECT * FROM moved',
          tbl || '_default', col, lo, col, hi, part);
        EXECUTE format('ALTER TABLE analytics.%I ATTACH PARTITION analytics.%I FOR VALUES FROM (%L) TO (%L)', tbl, part, lo, hi);
      ELSE
        EXECUTE format('CREATE TABLE analytics.%I PARTITION OF analytics.%I FOR VALUES FROM (%L) TO (%L)', part, tbl, lo, hi);
      END IF;
      created := created + 1;
    END LOOP;
  END LOOP;
  RETURN created;
END
$$;
REVOKE ALL ON FUNCTION analytics.ensure_partitions(integer, integer) FROM PUBLIC;

SELECT analytics.ensure_partitions(7, 7);
