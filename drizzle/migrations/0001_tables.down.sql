-- Drops every table (and with them their triggers, policies and indexes).
DROP SCHEMA IF EXISTS "analytics" CASCADE;
DROP SCHEMA IF EXISTS "ops" CASCADE;
DROP SCHEMA IF EXISTS "audits" CASCADE;
DROP SCHEMA IF EXISTS "providers" CASCADE;
DROP SCHEMA IF EXISTS "quarantine" CASCADE;
DROP SCHEMA IF EXISTS "production" CASCADE;
DROP SCHEMA IF EXISTS "experiments_v1" CASCADE;
DROP SCHEMA IF EXISTS "auth" CASCADE;
DROP SCHEMA IF EXISTS "projects" CASCADE;
