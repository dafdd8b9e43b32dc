import type { SqlClient } from '../../functions/shared/db/sql-client.js';

const OUR_SCHEMAS = `('auth','projects','experiments_v1','production','quarantine','providers','audits','ops','analytics','public')`;

/**
 * A textual dump of everything migrations create in our schemas: relations, columns, constraints,
 * indexes, triggers, policies, functions, views, grants. Two dumps are equal iff the schemas are.
 */
export async function catalogDump(client: SqlClient): Promise<string[]> {
  const queries = [
    `select 'rel ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' rls=' || c.relrowsecurity || ' part=' || coalesce(pg_get_partkeydef(c.oid), '')
       from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname in ${OUR_SCHEMAS} and c.relname <> 'lattice_migrations' and c.relname <> 'lattice_migrations_pkey'`,
    `select 'col ' || table_schema || '.' || table_name || '.' || column_name || ' ' || data_type || ' null=' || is_nullable || ' def=' || coalesce(column_default, '')
       from information_schema.columns where table_schema in ${OUR_SCHEMAS} and table_name <> 'lattice_migrations'`,
    `select 'con ' || n.nspname || '.' || c.conname || ' ' || pg_get_constraintdef(c.oid)
       from pg_constraint c join pg_namespace n on n.oid = c.connamespace where n.nspname in ${OUR_SCHEMAS} and c.conname not like 'lattice_migrations%'`,
    `select 'idx ' || schemaname || ' ' || indexdef from pg_indexes where schemaname in ${OUR_SCHEMAS} and tablename <> 'lattice_migrations'`,
    `select 'trg ' || pg_get_triggerdef(t.oid) from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
       where not t.tgisinternal and n.nspname in ${OUR_SCHEMAS}`,
    `select 'pol ' || schemaname || '.' || tablename || '.' || policyname || ' ' || array_to_string(roles, ',') || ' ' || cmd || ' ' || coalesce(qual, '') || ' ' || coalesce(with_check, '')
       from pg_policies where schemaname in ${OUR_SCHEMAS}`,
    `select 'fn ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') ' || md5(p.prosrc) || ' secdef=' || p.prosecdef
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname in ${OUR_SCHEMAS} and p.prokind in ('f', 'p')
       and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')`,
    `select 'view ' || schemaname || '.' || viewname || ' ' || md5(definition) from pg_views where schemaname in ${OUR_SCHEMAS}`,
    `select 'grant ' || table_schema || '.' || table_name || ' ' || grantee || ' ' || privilege_type
       from information_schema.role_table_grants where table_schema in ${OUR_SCHEMAS} and grantee = 'lattice_app'`,
  ];
  const lines: string[] = [];
  for (const q of queries) {
    for (const row of await client.query<Record<string, string>>(q)) lines.push(Object.values(row)[0]!);
  }
  return lines.sort();
}

/** Every identifier we created: relation, column, constraint, index, trigger, policy and function names. */
export async function identifiers(client: SqlClient): Promise<{ kind: string; name: string }[]> {
  return client.query<{ kind: string; name: string }>(
    `select 'relation' as kind, n.nspname || '.' || c.relname as name, octet_length(c.relname) as len from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname in ${OUR_SCHEMAS}
     union all select 'column', table_schema || '.' || table_name || '.' || column_name, octet_length(column_name) from information_schema.columns where table_schema in ${OUR_SCHEMAS}
     union all select 'constraint', conname, octet_length(conname) from pg_constraint c join pg_namespace n on n.oid = c.connamespace where n.nspname in ${OUR_SCHEMAS}
     union all select 'trigger', tgname, octet_length(tgname) from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace where n.nspname in ${OUR_SCHEMAS} and not t.tgisinternal
     union all select 'policy', policyname, octet_length(policyname) from pg_policies where schemaname in ${OUR_SCHEMAS}
     union all select 'function', p.proname, octet_length(p.proname) from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname in ${OUR_SCHEMAS}
     union all select 'schema', nspname, octet_length(nspname) from pg_namespace where nspname in ${OUR_SCHEMAS}`,
  ).then((rows) => rows.map(({ kind, name, len }: any) => ({ kind, name, len }) as any));
}
