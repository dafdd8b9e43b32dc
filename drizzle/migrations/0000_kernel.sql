-- Kernel: the application role and the trigger functions every schema's conventions use.
-- Roles are cluster-wide, so creation is guarded (many databases share one cluster in tests).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lattice_app') THEN
    CREATE ROLE lattice_app NOLOGIN;
  END IF;
END
$$;

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- BEFORE UPDATE: keeps updated_at honest whatever the client sends.
CREATE OR REPLACE FUNCTION public.lattice_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

-- AFTER INSERT/UPDATE/DELETE on domain tables: one audit row per change, actor from the
-- transaction's app.user_id (set by withTenant), org from the row itself.
-- SECURITY DEFINER: the application role may not write audit rows directly (RLS, no grant);
-- only this trigger, owned by the migrating role, appends them.
CREATE OR REPLACE FUNCTION public.lattice_audit_row_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  old_row jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END;
  new_row jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END;
  subject jsonb := coalesce(new_row, old_row);
  tenant_col text := coalesce(TG_ARGV[0], 'org_id');
  -- Columns never copied into the immutable log (password hashes, encrypted secrets, counters).
  excluded text[] := coalesce(string_to_array(nullif(TG_ARGV[1], ''), ','), '{}');
BEGIN
  old_row := old_row - excluded;
  new_row := new_row - excluded;
  -- An update that only touched excluded columns is not a change worth a row.
  IF TG_OP = 'UPDATE' AND (old_row - 'updated_at' - 'version') = (new_row - 'updated_at' - 'version') THEN
    RETURN NULL;
  END IF;
  INSERT INTO audits.audit_log (org_id, actor_id, action, table_schema, table_name, row_id, old_data, new_data)
  VALUES (
    nullif(subject ->> tenant_col, '')::uuid,
    nullif(current_setting('app.user_id', true), '')::uuid,
    lower(TG_OP),
    TG_TABLE_SCHEMA,
    TG_TABLE_NAME,
    subject ->> 'id',
    old_row,
    new_row
  );
  RETURN NULL;
END
$$;

-- BEFORE UPDATE/DELETE (row) and TRUNCATE (statement) on append-only tables.
CREATE OR REPLACE FUNCTION public.lattice_reject_mutation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%.% is append-only: % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'P0001', HINT = 'append a new row instead of changing this one';
END
$$;

-- Applies the table conventions in one call so every schema's SQL stays short and uniform:
-- updated_at trigger, audit trigger, RLS by tenant column, grants to the application role.
CREATE OR REPLACE FUNCTION public.lattice_apply_conventions(
  tbl regclass,
  tenant_column text DEFAULT 'org_id',
  audited boolean DEFAULT true,
  has_updated_at boolean DEFAULT true,
  privileges text DEFAULT 'SELECT, INSERT, UPDATE, DELETE',
  audit_exclude text[] DEFAULT '{}'
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  schema_name text := (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = tbl);
BEGIN
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO lattice_app', schema_name);
  EXECUTE format('GRANT %s ON %s TO lattice_app', privileges, tbl);
  IF has_updated_at THEN
    EXECUTE format('CREATE TRIGGER set_updated_at BEFORE UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION public.lattice_set_updated_at()', tbl);
  END IF;
  IF audited THEN
    EXECUTE format('CREATE TRIGGER audit_row_change AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION public.lattice_audit_row_change(%L, %L)', tbl, coalesce(tenant_column, 'org_id'), array_to_string(audit_exclude, ','));
  END IF;
  IF tenant_column IS NOT NULL THEN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %s TO lattice_app USING (%I = nullif(current_setting(''app.org_id'', true), '''')::uuid) WITH CHECK (%I = nullif(current_setting(''app.org_id'', true), '''')::uuid)',
      tbl, tenant_column, tenant_column);
  END IF;
END
$$;
