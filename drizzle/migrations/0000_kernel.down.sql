DROP FUNCTION IF EXISTS public.lattice_apply_conventions(regclass, text, boolean, boolean, text, text[]);
DROP FUNCTION IF EXISTS public.lattice_reject_mutation();
DROP FUNCTION IF EXISTS public.lattice_audit_row_change();
DROP FUNCTION IF EXISTS public.lattice_set_updated_at();
-- pg_trgm and the lattice_app role stay: other databases of the cluster may use them.
