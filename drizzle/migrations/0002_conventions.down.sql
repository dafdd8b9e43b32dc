
-- ===== analytics =====
-- Partitions, policies and grants go with the tables (dropped by the generated down).
DROP FUNCTION IF EXISTS analytics.ensure_partitions(integer, integer);

-- ===== providers =====
-- Triggers, policies and grants go with the tables (dropped by the generated down).
DROP FUNCTION IF EXISTS providers.authenticate_api_key(text);

-- ===== quarantine =====
-- quarantine: the view (triggers, policies and grants of the tables go with the tables).
DROP VIEW IF EXISTS quarantine.quarantine_stats;

-- ===== production =====
-- production: triggers, policies and grants go with the tables (DROP SCHEMA ... CASCADE).
SELECT 1;

-- ===== experiments_v1 =====
-- experiments_v1: triggers, policies and grants go with the tables (DROP SCHEMA ... CASCADE).
SELECT 1;

-- ===== auth =====
-- auth: triggers, policies and grants of auth tables go with the tables (DROP SCHEMA auth CASCADE
-- in the generated down); nothing else was created.
SELECT 1;

-- ===== projects =====
-- projects: triggers, policies and grants go with the tables (DROP SCHEMA projects CASCADE).
SELECT 1;

-- ===== ops =====
-- Triggers and grants go with the tables (dropped by the generated down).
DROP VIEW IF EXISTS ops.outbox_backlog;
DROP VIEW IF EXISTS ops.schema_health;

-- ===== audits =====
-- Partitions, triggers, policies and grants go with the tables (dropped by the generated down).
DROP VIEW IF EXISTS audits.audit_stats;
DROP FUNCTION IF EXISTS audits.ensure_audit_partitions(integer);
DROP FUNCTION IF EXISTS audits.audit_log_row_hash() CASCADE;
