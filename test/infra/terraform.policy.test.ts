import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { blocksOf, first, ROOT, type Json, type TfTree } from '../support/infra/hcl.js';
import {
  bigquerySchema,
  configVariables,
  environmentDefault,
  ENVS,
  EVENT_TABLES,
  FUNCTIONS,
  JOB_ENDPOINTS,
  OPERATOR_ENDPOINTS,
  loadTree,
  moduleCalls,
  moduleFiles,
  resource,
  resources,
  tfvars,
  unwrap,
  variableDefault,
  variables,
} from '../support/infra/model.js';

/**
 * Policy over the configuration as written (the plan of intent): what must hold whatever the values in
 * terraform.tfvars, and what the tfvars of dev and prod must respect.
 */
let tree: TfTree;
beforeAll(async () => {
  tree = await loadTree();
});

const locals = (module: string): Record<string, Json> => Object.assign({}, ...blocksOf(moduleFiles(tree, module), 'locals').map((b) => b.body));
const dynamicContent = (body: Json, name: string) => first(body.dynamic?.[name])?.content?.[0];

describe('Cloud SQL', () => {
  const instances = () => resources(tree, 'google_sql_database_instance');

  it('has no public IP, requires TLS, and is private to the VPC (primary and replica)', () => {
    expect(instances().map((i) => i.labels[1]).sort()).toEqual(['primary', 'replica']);
    for (const { labels, body } of instances()) {
      const ip = first(first(body.settings).ip_configuration);
      expect(ip.ipv4_enabled, labels[1]).toBe(false);
      expect(unwrap(ip.private_network)).toBe('var.network_id');
      expect(ip.ssl_mode).toBe('ENCRYPTED_ONLY');
      expect(ip.authorized_networks).toBeUndefined();
      expect(body.database_version).toBe('POSTGRES_15');
      expect(unwrap(body.encryption_key_name)).toBe('var.kms_key_name');
    }
  });

  it('is protected from deletion by terraform and by the API', () => {
    for (const { labels, body } of instances()) {
      expect(body.deletion_protection, labels[1]).toBe(true);
      expect(first(body.settings).deletion_protection_enabled, labels[1]).toBe(true);
    }
  });

  it('keeps 30 daily backups with point-in-time recovery, query insights, Sunday 04:00 maintenance', () => {
    const settings = first(resource(tree, 'modules/cloudsql', 'google_sql_database_instance', 'primary').settings);
    const backup = first(settings.backup_configuration);
    expect(backup.enabled).toBe(true);
    expect(backup.point_in_time_recovery_enabled).toBe(true);
    const retention = first(backup.backup_retention_settings);
    expect(retention.retention_unit).toBe('COUNT');
    expect(unwrap(retention.retained_backups)).toBe('var.backup_retention_days');
    expect(variableDefault(tree, 'modules/cloudsql', 'backup_retention_days')).toBe(30);
    const validation = variables(tree, 'modules/cloudsql').get('backup_retention_days').validation[0].condition;
    expect(validation).toContain('var.backup_retention_days >= 30');
    for (const env of ENVS) expect(moduleCalls(tree, env).get('cloudsql')).not.toHaveProperty('backup_retention_days');
    expect(first(settings.insights_config).query_insights_enabled).toBe(true);
    expect(first(settings.maintenance_window)).toMatchObject({ day: 7, hour: 4 });
  });

  it('turns on IAM database authentication and creates IAM users for the function service accounts', () => {
    const flags = locals('modules/cloudsql').database_flags;
    expect(flags['cloudsql.iam_authentication']).toBe('on');
    expect(flags.max_connections).toBe('${tostring(var.max_connections)}');
    for (const name of ['primary', 'replica']) {
      const body = resource(tree, 'modules/cloudsql', 'google_sql_database_instance', name);
      expect(unwrap(first(dynamicContent(first(body.settings), 'database_flags')).name)).toBe('database_flags.key');
    }
    const users = resource(tree, 'modules/cloudsql', 'google_sql_user', 'iam');
    expect(users.type).toBe('CLOUD_IAM_SERVICE_ACCOUNT');
    expect(unwrap(users.for_each)).toBe('var.iam_service_accounts');
    for (const env of ENVS) expect(moduleCalls(tree, env).get('cloudsql').iam_service_accounts).toContain('module.project.function_service_accounts');
  });

  it('has a read replica in prod only', async () => {
    const replica = resource(tree, 'modules/cloudsql', 'google_sql_database_instance', 'replica');
    expect(unwrap(replica.count)).toBe('var.read_replica ? 1 : 0');
    expect(unwrap(replica.master_instance_name)).toBe('google_sql_database_instance.primary.name');
    expect((await tfvars('prod')).sql_read_replica).toBe(true);
    expect((await tfvars('dev')).sql_read_replica).toBe(false);
  });

  it('checks that max_connections covers every function instance x pool size, and both environments pass it', async () => {
    const checks = blocksOf(moduleFiles(tree, 'modules/cloudsql'), 'check');
    const fit = checks.find((c) => c.labels[0] === 'max_connections_fit');
    expect(fit?.body.assert[0].condition).toBe('${var.max_connections >= local.required_connections}');
    const l = locals('modules/cloudsql');
    expect(l.connection_demand).toContain('max * var.pool_size');
    expect(l.required_connections).toBe('${local.connection_demand + var.reserved_connections}');
    const reserved = variableDefault(tree, 'modules/cloudsql', 'reserved_connections');
    for (const env of ENVS) {
      const poolSize = environmentDefault(tree, env, 'pool_size');
      expect(poolSize, env).toBe(10);
      const values = await tfvars(env);
      const demand = Object.values<Json>(values.functions).reduce((n, f) => n + f.max_instances * (values.pool_size ?? poolSize), 0);
      expect(values.sql_max_connections, env).toBeGreaterThanOrEqual(demand + reserved);
      // the pool never exceeds what one instance can use at once
      for (const [fn, f] of Object.entries<Json>(values.functions)) expect(f.concurrency, `${env} ${fn}`).toBeGreaterThanOrEqual(poolSize);
    }
  });
});

describe('Firestore', () => {
  it('is a native database with delete protection and a TTL policy on sessions.expiresAt', () => {
    const db = resource(tree, 'modules/firestore', 'google_firestore_database', 'this');
    expect(db.type).toBe('FIRESTORE_NATIVE');
    expect(db.delete_protection_state).toBe('DELETE_PROTECTION_ENABLED');
    const ttl = resources(tree, 'google_firestore_field').filter((f) => f.body.ttl_config);
    expect(ttl.map((f) => `${f.body.collection}.${f.body.field}`)).toEqual(['sessions.expiresAt']);
  });

  it('indexes the session queries and schedules the export to BigQuery', () => {
    // An index lists its fields, or takes them from a local map of field lists (for_each + dynamic "fields").
    const fieldLists = ({ body }: { body: Json }): Json[][] => {
      if (body.fields) return [body.fields];
      const content = dynamicContent(body, 'fields');
      expect(unwrap(first(body.dynamic.fields).for_each)).toBe('each.value');
      expect(content).toMatchObject({ field_path: '${fields.value.field_path}', order: '${fields.value.order}' });
      return Object.values(locals('modules/firestore')[unwrap(body.for_each).replace(/^local\./, '')]);
    };
    const indexed = resources(tree, 'google_firestore_index').flatMap(fieldLists).map((fields) => fields.map((f: Json) => f.field_path).join('+'));
    expect(indexed).toEqual(expect.arrayContaining(['userId+revokedAt+expiresAt', 'familyId+createdAt']));
    const jobs = blocksOf(moduleFiles(tree, 'modules/firestore'), 'resource').filter((b) => b.labels[0] === 'google_cloud_scheduler_job');
    const uris = jobs.map((j) => first(j.body.http_target).uri);
    expect(uris.some((u: string) => u.includes(':exportDocuments'))).toBe(true);
    expect(uris.some((u: string) => u.startsWith('https://bigquery.googleapis.com/bigquery/v2/'))).toBe(true);
  });
});

describe('BigQuery', () => {
  const tables = () => resources(tree, 'google_bigquery_table');

  it('partitions every table by day with partition expiration, requires a partition filter, and protects it', () => {
    const real = tables().filter((t) => !t.body.view);
    expect(real.length).toBeGreaterThanOrEqual(3);
    for (const { labels, body } of real) {
      const partitioning = first(body.time_partitioning);
      expect(partitioning?.type, labels[1]).toBe('DAY');
      expect(partitioning?.expiration_ms, labels[1]).toBeTruthy();
      expect(body.require_partition_filter, labels[1]).toBe(true);
      expect(body.deletion_protection, labels[1]).toBe(true);
    }
    for (const { labels, body } of tables()) expect(body.deletion_protection, labels[1]).toBe(true);
  });

  it('creates the three event tables from terraform/bigquery/schemas, partitioned on the event time and clustered', () => {
    const l = locals('modules/bigquery');
    expect(Object.keys(l.event_tables).sort()).toEqual([...EVENT_TABLES].sort());
    const event = resource(tree, 'modules/bigquery', 'google_bigquery_table', 'event');
    expect(event.schema).toBe('${file("${local.schema_dir}/${each.key}.json")}');
    expect(l.schema_dir).toBe('${path.module}/../../bigquery/schemas');
    expect(existsSync(join(ROOT, 'terraform', 'modules', 'bigquery', '..', '..', 'bigquery'))).toBe(true);
    for (const table of EVENT_TABLES) {
      const spec = l.event_tables[table];
      const fields = bigquerySchema(table);
      if (!fields) continue; // the schema files are written alongside; checked once they exist
      const byName = new Map(fields.map((f) => [f.name, f]));
      expect(['TIMESTAMP', 'DATE'], table).toContain(byName.get(spec.partition_field)?.type);
      for (const column of spec.clustering) expect(byName.has(column), `${table}.${column}`).toBe(true);
      expect(byName.has('event_id'), `${table}.event_id`).toBe(true);
    }
  });

  it('deduplicates by event_id in views, gives analysts only authorized views, and schedules the daily aggregate', () => {
    const dedup = resource(tree, 'modules/bigquery', 'google_bigquery_table', 'dedup');
    expect(first(dedup.view).query).toContain('PARTITION BY event_id');
    const access = resources(tree, 'google_bigquery_dataset_access');
    const authorized = access.filter((a) => a.body.view);
    expect(authorized.map((a) => unwrap(first(a.body.view).table_id))).toEqual(['google_bigquery_table.analyst_view[each.key].table_id']);
    const analysts = access.find((a) => a.labels[1] === 'analysts')!.body;
    expect(unwrap(analysts.dataset_id)).toBe('google_bigquery_dataset.analyst.dataset_id');
    expect(resources(tree, 'google_bigquery_dataset_iam_member')).toEqual([]); // would drop the authorized views
    const scheduled = resource(tree, 'modules/bigquery', 'google_bigquery_data_transfer_config', 'daily_aggregates');
    expect(scheduled.data_source_id).toBe('scheduled_query');
    const fields = bigquerySchema('request_logs');
    if (fields) {
      const names = new Set(fields.map((f) => f.name));
      for (const column of ['occurred_at', 'org_id', 'provider', 'model', 'status', 'prompt_tokens', 'completion_tokens', 'cost_micros', 'latency_ms']) {
        expect(scheduled.params.query).toContain(column);
        expect(names.has(column), `request_logs.${column}`).toBe(true);
      }
    }
  });
});

describe('Cloud KMS', () => {
  it('has a symmetric provider key rotating every 90 days, an EC P-256 signing key, all with prevent_destroy', () => {
    const keys = resources(tree, 'google_kms_crypto_key');
    expect(keys.map((k) => k.labels[1]).sort()).toEqual(['artifacts', 'audit_signing', 'cloudsql', 'provider_keys']);
    for (const { labels, body } of keys) {
      expect(first(body.lifecycle)?.prevent_destroy, labels[1]).toBe(true);
      if (body.purpose === 'ENCRYPT_DECRYPT') expect(unwrap(body.rotation_period), labels[1]).toBe('var.rotation_period');
    }
    expect(variableDefault(tree, 'modules/kms', 'rotation_period')).toBe('7776000s');
    const signing = resource(tree, 'modules/kms', 'google_kms_crypto_key', 'audit_signing');
    expect(signing.purpose).toBe('ASYMMETRIC_SIGN');
    expect(first(signing.version_template).algorithm).toBe('EC_SIGN_P256_SHA256');
  });

  it('lets only the providers function (and auth, for TOTP secrets) encrypt/decrypt and only jobs sign', () => {
    const grants = [...resources(tree, 'google_kms_crypto_key_iam_binding'), ...resources(tree, 'google_kms_crypto_key_iam_member')];
    expect(resources(tree, 'google_kms_crypto_key_iam_policy')).toEqual([]);
    const members = (role: RegExp, key: string) =>
      grants
        .filter((g) => role.test(g.body.role) && unwrap(g.body.crypto_key_id) === `google_kms_crypto_key.${key}.id`)
        .flatMap((g) => g.body.members ?? [g.body.member]);
    const encrypt = /cryptoKey(Encrypter|Decrypter)|cloudkms\.admin/;
    const sign = /signer|cloudkms\.admin/;
    expect(members(encrypt, 'provider_keys').sort()).toEqual(['serviceAccount:${var.auth_service_account}', 'serviceAccount:${var.providers_service_account}']);
    expect(members(sign, 'provider_keys')).toEqual([]);
    expect(members(sign, 'audit_signing')).toEqual(['serviceAccount:${var.jobs_service_account}']);
    expect(members(encrypt, 'audit_signing')).toEqual([]);
    expect(resources(tree, 'google_project_iam_member').filter((m) => /cloudkms/.test(m.body.role))).toEqual([]);
    for (const env of ENVS) {
      const kms = moduleCalls(tree, env).get('kms');
      expect(kms.providers_service_account).toBe('${module.project.function_service_accounts["providers"]}');
      expect(kms.auth_service_account).toBe('${module.project.function_service_accounts["auth"]}');
      expect(kms.jobs_service_account).toBe('${module.project.function_service_accounts["jobs"]}');
    }
  });
});

describe('Artifacts bucket', () => {
  const bucket = () => resource(tree, 'modules/artifacts', 'google_storage_bucket', 'artifacts');

  it('is private: uniform bucket-level access, public access prevention enforced, no ACLs, no public member', () => {
    const b = bucket();
    expect(b.uniform_bucket_level_access).toBe(true);
    expect(b.public_access_prevention).toBe('enforced');
    expect(b.force_destroy).toBe(false);
    for (const type of ['google_storage_bucket_acl', 'google_storage_object_acl', 'google_storage_default_object_acl', 'google_storage_bucket_access_control', 'google_storage_bucket_iam_policy', 'google_storage_bucket_iam_binding']) {
      expect(resources(tree, type), type).toEqual([]);
    }
    const grants = resources(tree, 'google_storage_bucket_iam_member').filter((g) => unwrap(g.body.bucket) === 'google_storage_bucket.artifacts.name');
    expect(grants.map((g) => g.body.member).filter((m: string) => /allUsers|allAuthenticatedUsers/.test(m))).toEqual([]);
  });

  it('is encrypted with the platform key ring\'s artifacts key, which only Cloud Storage\'s service agent may use', () => {
    expect(unwrap(first(bucket().encryption).default_kms_key_name)).toBe('var.kms_key_name');
    for (const env of ENVS) expect(moduleCalls(tree, env).get('artifacts').kms_key_name).toBe('${module.kms.artifacts_key}');
    const grant = resource(tree, 'modules/kms', 'google_kms_crypto_key_iam_binding', 'artifacts_cmek');
    expect(unwrap(grant.crypto_key_id)).toBe('google_kms_crypto_key.artifacts.id');
    expect(grant.role).toBe('roles/cloudkms.cryptoKeyEncrypterDecrypter');
    expect(grant.members).toEqual(['serviceAccount:${var.storage_service_agent}']);
    for (const env of ENVS) expect(moduleCalls(tree, env).get('kms').storage_service_agent).toBe('${module.project.storage_service_agent}');
    // Read from Cloud Storage's own API, which creates the agent if it does not exist yet.
    expect(blocksOf(moduleFiles(tree, 'modules/project'), 'data').some((d) => d.labels[0] === 'google_storage_project_service_account')).toBe(true);
  });

  it('keeps no old copies (versioning and soft delete off) and deletes objects one day after the longest artifact life', async () => {
    const b = bucket();
    expect(first(b.versioning).enabled).toBe(false);
    expect(first(b.soft_delete_policy).retention_duration_seconds).toBe(0);
    const rules = b.lifecycle_rule as Json[];
    expect(rules).toHaveLength(1);
    expect(first(rules[0].action).type).toBe('Delete');
    expect(first(rules[0].condition).age).toBe('${var.max_age_days + 1}');
    const { ARTIFACT_MAX_TTL_DAYS } = await import('../../functions/projects/service/artifacts.js');
    expect(variableDefault(tree, 'modules/artifacts', 'max_age_days')).toBe(ARTIFACT_MAX_TTL_DAYS);
    for (const env of ENVS) expect(moduleCalls(tree, env).get('artifacts')).not.toHaveProperty('max_age_days');
  });

  it('lets only the projects function write; jobs may only delete; the projects function signs URLs as itself alone', () => {
    const grants = resources(tree, 'google_storage_bucket_iam_member').filter((g) => unwrap(g.body.bucket) === 'google_storage_bucket.artifacts.name');
    const byMember = Object.fromEntries(grants.map((g) => [g.body.member, g.body.role]));
    expect(byMember).toEqual({
      'serviceAccount:${var.projects_service_account}': 'roles/storage.objectUser',
      'serviceAccount:${var.jobs_service_account}': '${google_project_iam_custom_role.artifact_reaper.name}',
    });
    expect(resource(tree, 'modules/artifacts', 'google_project_iam_custom_role', 'artifact_reaper').permissions).toEqual(['storage.objects.delete']);
    // A project-wide role that writes objects would reach this bucket too: none may, unless its IAM
    // Condition leaves the artifacts bucket out (the build account's object admin).
    const writes = /roles\/(storage\.(admin|objectAdmin|objectCreator|objectUser|legacy\w*)|editor|owner)/;
    const bucketName = bucket().name;
    expect(locals('modules/project').artifacts_bucket).toBe(bucketName);
    for (const m of resources(tree, 'google_project_iam_member')) {
      const list = /local\.(\w+)/.exec(String(unwrap(m.body.for_each) ?? ''))?.[1];
      const roles = JSON.stringify(m.body.role) + JSON.stringify(list ? locals('modules/project')[list] ?? '' : '');
      if (!writes.test(roles)) continue;
      const condition = dynamicContent(m.body, 'condition') ?? first(m.body.condition);
      expect(condition?.expression, `${m.labels[1]} can write the artifacts bucket`).toBe('resource.name != "projects/_/buckets/${condition.value}" && !resource.name.startsWith("projects/_/buckets/${condition.value}/")');
      expect(first(m.body.dynamic.condition).for_each).toBe('${each.value == "roles/storage.objectAdmin" ? [local.artifacts_bucket] : []}');
    }
    const signer = resource(tree, 'modules/artifacts', 'google_service_account_iam_member', 'projects_signs_as_itself');
    expect(signer.role).toBe('roles/iam.serviceAccountTokenCreator');
    expect(signer.member).toBe('serviceAccount:${var.projects_service_account}');
    expect(signer.service_account_id).toBe('projects/${var.project_id}/serviceAccounts/${var.projects_service_account}');
    for (const env of ENVS) {
      const call = moduleCalls(tree, env).get('artifacts');
      expect(call.projects_service_account).toBe('${module.project.function_service_accounts["projects"]}');
      expect(call.jobs_service_account).toBe('${module.project.function_service_accounts["jobs"]}');
    }
  });

  it('is what the functions use: ARTIFACT_STORE=gcs and ARTIFACT_BUCKET from the module for projects and jobs, IAM Credentials enabled for signBlob', () => {
    const env = locals('modules/functions').function_env;
    for (const fn of ['projects', 'jobs']) {
      expect(env[fn].ARTIFACT_STORE, fn).toBe('gcs');
      expect(env[fn].ARTIFACT_BUCKET, fn).toBe('${var.artifact_bucket}');
    }
    for (const e of ENVS) expect(moduleCalls(tree, e).get('functions').artifact_bucket).toBe('${module.artifacts.bucket_name}');
    const apis = locals('modules/project').apis as string[];
    expect(apis).toEqual(expect.arrayContaining(['iamcredentials.googleapis.com', 'storage.googleapis.com']));
  });
});

describe('Cloud Functions', () => {
  const fn = () => resource(tree, 'modules/functions', 'google_cloudfunctions2_function', 'this');

  it('deploys the four functions from per-function archives, each with its own service account and VPC egress', async () => {
    const body = fn();
    expect(unwrap(body.for_each)).toBe('var.functions');
    const storage = first(first(first(body.build_config).source).storage_source);
    expect(storage.object).toBe('${each.key}/${local.release}.zip');
    const service = first(body.service_config);
    expect(unwrap(service.service_account_email)).toBe('var.service_accounts[each.key]');
    expect(unwrap(service.vpc_connector)).toBe('var.vpc_connector');
    expect(service.vpc_connector_egress_settings).toBe('PRIVATE_RANGES_ONLY');
    for (const key of ['available_memory', 'available_cpu', 'min_instance_count', 'max_instance_count', 'max_instance_request_concurrency', 'timeout_seconds', 'ingress_settings']) {
      expect(service, key).toHaveProperty(key);
    }
    expect(first(service.dynamic.secret_environment_variables).content[0]).toMatchObject({ key: '${secret_environment_variables.value}', version: 'latest' });
    for (const env of ENVS) expect(Object.keys((await tfvars(env)).functions).sort()).toEqual([...FUNCTIONS]);
    expect(unwrap(resource(tree, 'modules/project', 'google_service_account', 'function').for_each)).toBe('var.functions');
  });

  it('sets only variables config.ts reads, and the signing key version only where audit seals are signed or verified', () => {
    const { all } = configVariables();
    const l = locals('modules/functions');
    const perFunction = Object.values<Json>(l.function_env).flatMap((env) => Object.keys(env));
    for (const name of [...Object.keys(l.common_env), 'DB_USER', ...perFunction]) expect(all.has(name), `${name} is not read by config.ts`).toBe(true);
    expect(l.common_env.NODE_ENV).toBe('production');
    const environment = first(fn().service_config).environment_variables;
    expect(environment).toContain('DB_USER = var.db_users[each.key]');
    expect(environment).toContain('lookup(local.function_env, each.key, {})');
    const signers = Object.entries<Json>(l.function_env).filter(([, env]) => 'KMS_SIGNING_KEY_VERSION' in env).map(([name]) => name);
    expect(signers.sort()).toEqual(['jobs', 'projects']);
  });

  it('runs the gateway concurrent and warm: providers above 1 request per instance, a whole vCPU, a minimum instance in every environment', async () => {
    const checks = variables(tree, 'modules/functions').get('functions').validation.map((v: Json) => v.condition as string);
    expect(checks.some((c: string) => c.includes('f.concurrency == 1 || try(tonumber(f.cpu) >= 1, false)'))).toBe(true);
    expect(checks.some((c: string) => c.includes('var.functions["providers"].concurrency > 1 && var.functions["providers"].min_instances >= 1'))).toBe(true);
    for (const env of ENVS) {
      const values = await tfvars(env);
      const providers = values.functions.providers;
      expect(providers.concurrency, env).toBeGreaterThan(1);
      expect(Number(providers.cpu), env).toBeGreaterThanOrEqual(1);
      expect(providers.min_instances, env).toBeGreaterThanOrEqual(1);
      // Cloud Run: concurrency above 1 needs at least one vCPU, for every function.
      for (const [fn, f] of Object.entries<Json>(values.functions)) if (f.concurrency > 1) expect(Number(f.cpu), `${env} ${fn}`).toBeGreaterThanOrEqual(1);
    }
  });

  it('grants allUsers invoker only on the public HTTPS functions, never on jobs', async () => {
    const all = blocksOf(tree.files, 'resource').filter((r) => JSON.stringify(r.body).match(/allUsers|allAuthenticatedUsers/));
    expect(all.map((r) => `${r.labels[0]}.${r.labels[1]}`)).toEqual(['google_cloud_run_v2_service_iam_member.public']);
    const grant = all[0]!.body;
    expect(grant.role).toBe('roles/run.invoker');
    expect(unwrap(grant.for_each)).toBe('{ for fn, f in var.functions : fn => f if f.public }');
    for (const env of ENVS) {
      const publicFns = Object.entries<Json>((await tfvars(env)).functions).filter(([, f]) => f.public).map(([name]) => name);
      expect(publicFns.sort(), env).toEqual(['auth', 'projects', 'providers']);
    }
    const jobsInvoker = resource(tree, 'modules/functions', 'google_cloud_run_v2_service_iam_member', 'jobs_invoker');
    expect(jobsInvoker.member).toBe('serviceAccount:${var.service_accounts["jobs"]}');
    expect(unwrap(jobsInvoker.name)).toBe('google_cloudfunctions2_function.this["jobs"].service_config[0].service');
  });
});

describe('Cloud Scheduler', () => {
  it('calls every jobs endpoint with an OIDC token of the jobs service account and the function URL as audience', () => {
    const job = resource(tree, 'modules/scheduler', 'google_cloud_scheduler_job', 'job');
    expect(unwrap(job.for_each)).toBe('var.schedules');
    const schedules = variableDefault(tree, 'modules/scheduler', 'schedules');
    expect(Object.keys(schedules).sort()).toEqual([...JOB_ENDPOINTS].sort());
    expect(schedules['provider-health']).toBe('*/5 * * * *');
    const target = first(job.http_target);
    expect(target.uri).toBe('${var.jobs_url}/${each.key}');
    expect(target.http_method).toBe('POST');
    expect(first(target.oidc_token)).toEqual({ service_account_email: '${var.jobs_service_account}', audience: '${var.jobs_url}' });
    for (const env of ENVS) {
      const call = moduleCalls(tree, env).get('scheduler');
      expect(call.jobs_url).toBe('${module.functions.urls["jobs"]}');
      expect(call.jobs_service_account).toBe('${module.project.function_service_accounts["jobs"]}');
      expect(call).not.toHaveProperty('schedules');
    }
    // the jobs function verifies the same audience it is called with
    expect(locals('modules/functions').function_env.jobs.JOBS_AUDIENCE).toBe('${local.urls["jobs"]}');
    expect(locals('modules/functions').function_env.jobs.JOBS_SERVICE_ACCOUNT).toBe('${var.service_accounts["jobs"]}');
    const check = blocksOf(moduleFiles(tree, 'modules/functions'), 'check')[0]!.body.assert[0].condition;
    expect(check).toBe('${google_cloudfunctions2_function.this["jobs"].url == local.urls["jobs"]}');
  });

  it('uses OIDC for every job that calls our functions and OAuth only for Google APIs', () => {
    const jobs = resources(tree, 'google_cloud_scheduler_job');
    expect(jobs.length).toBeGreaterThanOrEqual(3);
    for (const { labels, body } of jobs) {
      const target = first(body.http_target);
      if (/^https:\/\/[a-z]+\.googleapis\.com\//.test(target.uri)) expect(target.oauth_token, labels[1]).toBeDefined();
      else {
        expect(target.oidc_token, labels[1]).toBeDefined();
        expect(target.oauth_token, labels[1]).toBeUndefined();
      }
    }
  });

  it('schedules every POST route the jobs function serves, except the operator-only ones', () => {
    const sources = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(d, e.name)) : e.name.endsWith('.ts') ? [readFileSync(join(d, e.name), 'utf8')] : []));
    const routes = join(ROOT, 'functions', 'jobs', 'routes');
    const served = [...sources(routes).join('\n').matchAll(/path:\s*'\/([a-z][a-z-]*)'/g)].map((m) => m[1]!);
    expect(served.length).toBeGreaterThan(0);
    const scheduled = Object.keys(variableDefault(tree, 'modules/scheduler', 'schedules'));
    const operator = new Set<string>(OPERATOR_ENDPOINTS);
    for (const endpoint of served) {
      if (operator.has(endpoint)) expect(scheduled, `POST /${endpoint} is for operators and must not be scheduled`).not.toContain(endpoint);
      else expect(scheduled, `POST /${endpoint} is not scheduled`).toContain(endpoint);
    }
    expect(new Set(served)).toEqual(new Set([...JOB_ENDPOINTS, ...OPERATOR_ENDPOINTS]));
  });
});
