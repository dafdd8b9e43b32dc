import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { FUNCTION_REQUIREMENTS, providerKeyVariable } from '../../functions/shared/config.js';
import { deployRuntime } from '../../scripts/build.js';
import { blocksOf, first, ROOT, TERRAFORM, type Json, type TfTree } from '../support/infra/hcl.js';
import { configVariables, ENVS, FUNCTIONS, loadTree, moduleCalls, moduleFiles, resource, resources, unwrap, variableDefault } from '../support/infra/model.js';

/**
 * The eleven ways a review found the first deploy would fail or break (issue 15), each as a check that
 * would have caught it: the runtime, the jobs token behind Cloud Run, secrets and configuration, mail,
 * the build account, API ordering, service agents, the scheduled query's schema, the replica's
 * maintenance window, and one owner for the functions' code.
 */
let tree: TfTree;
let cloudbuild: { substitutions: Record<string, string>; steps: Array<{ id: string; name: string; args?: string[]; entrypoint?: string }> };
let cloudbuildText: string;
beforeAll(async () => {
  tree = await loadTree();
  cloudbuildText = readFileSync(join(ROOT, 'cloudbuild.yaml'), 'utf8');
  cloudbuild = parseYaml(cloudbuildText);
});

const locals = (module: string): Record<string, Json> => Object.assign({}, ...blocksOf(moduleFiles(tree, module), 'locals').map((b) => b.body));
const tfText = (dir = TERRAFORM): string =>
  readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? [tfText(join(dir, e.name))] : e.name.endsWith('.tf') || e.name.endsWith('.tfvars') ? [readFileSync(join(dir, e.name), 'utf8')] : []))
    .join('\n');
const sources = (dir: string): Array<{ path: string; text: string }> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [{ path: join(dir, e.name), text: readFileSync(join(dir, e.name), 'utf8') }] : [],
  );

/** A `>=a.b <c || >=d` engines range (the comparators package.json uses) against a version. */
function satisfies(version: string, range: string): boolean {
  const num = (v: string) => v.split('.').map(Number).concat(0, 0, 0).slice(0, 3);
  const cmp = (a: number[], b: number[]) => a.reduce((r, x, i) => r || Math.sign(x - b[i]!), 0);
  const v = num(version);
  return range.split('||').some((part) =>
    part.trim().split(/\s+/).every((c) => {
      const m = /^(>=|<=|>|<|=)?(\d+(?:\.\d+){0,2})$/.exec(c);
      if (!m) throw new Error(`unsupported engines comparator ${c}`);
      const d = cmp(v, num(m[2]!));
      return { '>=': d >= 0, '<=': d <= 0, '>': d > 0, '<': d < 0, '=': d === 0 }[m[1] ?? '=']!;
    }),
  );
}

interface ScheduleRow {
  runtime: string;
  major: number;
  stage: string;
  deprecation: string;
  decommission: string;
}
const schedule = (): { source: string; runtimes: ScheduleRow[] } => JSON.parse(readFileSync(join(TERRAFORM, 'runtimes', 'nodejs-schedule.json'), 'utf8'));

describe('1. a supported Node.js runtime, stated once', () => {
  it('keeps Google\'s runtime schedule in the repo with its source', () => {
    const table = schedule();
    expect(table.source).toMatch(/^https:\/\/cloud\.google\.com\/.*runtimes/);
    expect(table.runtimes.map((r) => r.runtime)).toEqual(expect.arrayContaining(['nodejs20', 'nodejs22', 'nodejs24']));
    for (const row of table.runtimes) expect(row.deprecation < row.decommission, row.runtime).toBe(true);
  });

  it('deploys a GA runtime that is not deprecated (today, and for the next 90 days of notice Google gives)', () => {
    const runtime = variableDefault(tree, 'modules/platform', 'runtime');
    const row = schedule().runtimes.find((r) => r.runtime === runtime);
    expect(row, `${runtime} is not in terraform/runtimes/nodejs-schedule.json`).toBeDefined();
    expect(row!.stage).toBe('GA');
    // A policy on the calendar, on purpose: this fails once the runtime nears deprecation, which is the
    // moment to move to the next one (Google notifies 90 days before deprecation).
    const horizon = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);
    expect(row!.deprecation > horizon, `${runtime} is deprecated on ${row!.deprecation}`).toBe(true);
    // the newest GA Node runtime in the schedule
    const newest = Math.max(...schedule().runtimes.filter((r) => r.stage === 'GA').map((r) => r.major));
    expect(row!.major).toBe(newest);
  });

  it('states the runtime once (modules/platform) and everything else reads it', () => {
    const mentions = [...tfText().matchAll(/"nodejs\d+"/g)].map((m) => m[0]);
    expect(mentions).toEqual([`"${variableDefault(tree, 'modules/platform', 'runtime')}"`]);
    const fn = resource(tree, 'modules/functions', 'google_cloudfunctions2_function', 'this');
    expect(unwrap(first(fn.build_config).runtime)).toBe('var.runtime');
    for (const env of ENVS) expect(moduleCalls(tree, env).get('functions').runtime).toBe('${var.runtime}');
    // esbuild target and the bundles' engines follow it (scripts/build.ts), and it is that default
    const { runtime, major } = deployRuntime();
    expect(runtime).toBe(variableDefault(tree, 'modules/platform', 'runtime'));
    const build = readFileSync(join(ROOT, 'scripts', 'build.ts'), 'utf8');
    expect(build).toContain('target: `node${major}`');
    expect(build).toContain('engines: { node: `>=${major}` }');
    expect(build).not.toMatch(/node2\d'/);
    // cloudbuild tests on the same major and states no runtime of its own
    expect(cloudbuild.substitutions._NODE_IMAGE).toBe(`node:${major}-bookworm`);
    expect(cloudbuildText).not.toMatch(/--runtime|nodejs\d/);
    // the package's engines admit the deploy major
    const engines: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node;
    expect(satisfies(`${major}.0.0`, engines), `${engines} excludes Node ${major}`).toBe(true);
  });
});

describe('2. the jobs function behind Cloud Run IAM', () => {
  it('is invocable only by the scheduler account, whose tokens carry the audience the function checks', () => {
    const invokers = resources(tree, 'google_cloud_run_v2_service_iam_member');
    const onJobs = invokers.filter((r) => unwrap(r.body.name)?.includes('["jobs"]'));
    expect(onJobs.map((r) => r.body.member)).toEqual(['serviceAccount:${var.service_accounts["jobs"]}']);
    const job = first(first(resource(tree, 'modules/scheduler', 'google_cloud_scheduler_job', 'job').http_target).oidc_token);
    expect(job).toEqual({ service_account_email: '${var.jobs_service_account}', audience: '${var.jobs_url}' });
    const env = locals('modules/functions').function_env.jobs;
    expect(env.JOBS_AUDIENCE).toBe('${local.urls["jobs"]}');
    expect(env.JOBS_SERVICE_ACCOUNT).toBe('${var.service_accounts["jobs"]}');
    for (const env of ENVS) expect(moduleCalls(tree, env).get('scheduler').jobs_url).toBe('${module.functions.urls["jobs"]}');
  });

  it('checks claims without re-verifying the signature Cloud Run removed (production mode)', () => {
    const oidc = readFileSync(join(ROOT, 'functions', 'jobs', 'service', 'oidc.ts'), 'utf8');
    expect(oidc).toContain("SIGNATURE_REMOVED_BY_GOOGLE");
    expect(oidc).toContain("cfg.NODE_ENV === 'production' ? 'cloud-run' : 'signature'");
  });
});

describe('3-5. every variable a function reads is configured, secrets from Secret Manager', () => {
  const functionSecrets = () => locals('modules/platform').function_secrets as Record<string, string[] | string>;
  const providerDefaults = () => variableDefault(tree, 'modules/platform', 'platform_providers') as string[];
  /** What terraform mounts as secrets on a function, PROVIDER_KEY_* expanded for the default providers. */
  const mountedSecrets = (fn: string): string[] => {
    const value = functionSecrets()[fn]!;
    if (Array.isArray(value)) return value;
    const fixed = [...String(value).matchAll(/"([A-Z][A-Z0-9_]*)"/g)].map((m) => m[1]!);
    return value.includes('local.provider_key_secrets') ? [...fixed, ...providerDefaults().map(providerKeyVariable)] : fixed;
  };
  const plainEnv = (fn: string): string[] => [
    ...Object.keys(locals('modules/functions').common_env),
    'DB_USER',
    ...Object.keys(locals('modules/functions').function_env[fn] ?? {}),
  ];

  it('gives each function every variable config.ts requires of it in production, secrets as secret_environment_variables', () => {
    for (const fn of FUNCTIONS) {
      const need = FUNCTION_REQUIREMENTS[fn]!;
      const secrets = mountedSecrets(fn);
      const expectedSecrets = need.secrets.flatMap((s) => (s === 'PROVIDER_KEY_*' ? providerDefaults().map(providerKeyVariable) : [s]));
      expect(secrets.sort(), `${fn}: secrets`).toEqual([...new Set(expectedSecrets)].sort());
      for (const variable of need.variables) expect(plainEnv(fn), `${fn} needs ${variable}`).toContain(variable);
      // a secret is never also a plain environment variable (it would be in state and in the console)
      for (const secret of secrets) expect(plainEnv(fn), `${fn}: ${secret} in plain env`).not.toContain(secret);
    }
    expect(FUNCTION_REQUIREMENTS.providers!.secrets).toContain('ALERT_WEBHOOK_SECRET');
    expect(FUNCTION_REQUIREMENTS.jobs!.secrets).toContain('ALERT_WEBHOOK_SECRET');
    expect(FUNCTION_REQUIREMENTS.providers!.secrets).toContain('PROVIDER_KEY_*');
  });

  it('mounts exactly the function\'s secrets, grants its account exactly those, and never stores a value', () => {
    const fn = resource(tree, 'modules/functions', 'google_cloudfunctions2_function', 'this');
    const dynamic = first(first(fn.service_config).dynamic.secret_environment_variables);
    expect(unwrap(dynamic.for_each)).toBe('toset(lookup(var.function_secrets, each.key, []))');
    expect(dynamic.content[0].secret).toBe('${var.secret_ids[secret_environment_variables.value]}');
    for (const env of ENVS) {
      const calls = moduleCalls(tree, env);
      expect(calls.get('functions').function_secrets).toBe('${local.function_secrets}');
      expect(calls.get('secrets').readers).toBe('${local.function_secrets}');
      expect(calls.get('secrets').secrets).toBe('${toset(flatten(values(local.function_secrets)))}');
    }
    const grant = resource(tree, 'modules/secrets', 'google_secret_manager_secret_iam_member', 'reader');
    expect(grant.role).toBe('roles/secretmanager.secretAccessor');
    expect(grant.member).toBe('serviceAccount:${var.service_accounts[each.value.fn]}');
    expect(locals('modules/secrets').grants).toContain('for name in names');
    // no secret value anywhere in terraform: no versions, no secret data
    expect(resources(tree, 'google_secret_manager_secret_version')).toEqual([]);
    expect(tfText()).not.toMatch(/secret_data/);
    expect(resources(tree, 'google_secret_manager_secret_iam_binding')).toEqual([]);
  });

  it('provisions a platform key secret for every catalog provider by default', () => {
    const catalog = readFileSync(join(ROOT, 'drizzle', 'migrations', '0003_providers_catalog.sql'), 'utf8');
    const ids = [...catalog.matchAll(/^\s+\('([a-z0-9-]+)', '(openai|anthropic|gemini|openai_compatible)'/gm)].map((m) => m[1]!);
    expect(ids.length).toBeGreaterThan(0);
    expect(providerDefaults().sort()).toEqual([...new Set(ids)].sort());
    expect(locals('modules/functions').function_env.providers.PLATFORM_PROVIDERS).toBe('${join(",", var.platform_providers)}');
  });

  it('reads no environment variable outside config.ts (functions/, the dev server aside)', () => {
    const { all } = configVariables();
    const offenders: string[] = [];
    for (const { path, text } of sources(join(ROOT, 'functions'))) {
      if (path.includes(`${join('functions', 'dev')}`) || path.endsWith(join('shared', 'config.ts'))) continue;
      for (const m of text.matchAll(/process\.env(?:\.([A-Z_][A-Z0-9_]*)|\[)/g)) {
        if (!m[1] || !all.has(m[1])) offenders.push(`${path.slice(ROOT.length + 1)}: ${m[0]}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('sends mail through SMTP in production (auth)', () => {
    expect(locals('modules/functions').function_env.auth.MAILER).toBe('smtp');
    expect(FUNCTION_REQUIREMENTS.auth!.secrets).toEqual(expect.arrayContaining(['SMTP_HOST', 'SMTP_PORT', 'SMTP_USER', 'SMTP_PASSWORD']));
  });
});

describe('6. a dedicated build service account', () => {
  it('builds the functions as its own account with the documented roles, which the deployer may act as', () => {
    const fn = resource(tree, 'modules/functions', 'google_cloudfunctions2_function', 'this');
    expect(first(fn.build_config).service_account).toBe('projects/${var.project_id}/serviceAccounts/${var.build_service_account}');
    for (const env of ENVS) expect(moduleCalls(tree, env).get('functions').build_service_account).toBe('${module.project.build_service_account}');
    // https://cloud.google.com/run/docs/configuring/services/build-service-account
    expect(locals('modules/project').build_roles.sort()).toEqual(['roles/artifactregistry.writer', 'roles/logging.logWriter', 'roles/storage.objectAdmin']);
    const actsAs = resource(tree, 'modules/project', 'google_service_account_iam_member', 'deployer_acts_as_build');
    expect(unwrap(actsAs.service_account_id)).toBe('google_service_account.build.name');
    expect(actsAs.role).toBe('roles/iam.serviceAccountUser');
  });
});

describe('7. APIs are enabled before anything uses them', () => {
  /** Resource type prefix → the API it calls. */
  const API_OF: Array<[RegExp, string]> = [
    [/^google_sql_/, 'sqladmin.googleapis.com'],
    [/^google_cloudfunctions2_/, 'cloudfunctions.googleapis.com'],
    [/^google_cloud_run_v2_/, 'run.googleapis.com'],
    [/^google_kms_/, 'cloudkms.googleapis.com'],
    [/^google_secret_manager_/, 'secretmanager.googleapis.com'],
    [/^google_bigquery_data_transfer_/, 'bigquerydatatransfer.googleapis.com'],
    [/^google_bigquery_/, 'bigquery.googleapis.com'],
    [/^google_firestore_/, 'firestore.googleapis.com'],
    [/^google_cloud_scheduler_/, 'cloudscheduler.googleapis.com'],
    [/^google_compute_/, 'compute.googleapis.com'],
    [/^google_vpc_access_/, 'vpcaccess.googleapis.com'],
    [/^google_service_networking_/, 'servicenetworking.googleapis.com'],
    [/^google_cloudbuild_/, 'cloudbuild.googleapis.com'],
    [/^google_service_account/, 'iam.googleapis.com'],
    [/^google_project_iam_/, 'cloudresourcemanager.googleapis.com'],
    [/^google_project$/, 'cloudresourcemanager.googleapis.com'],
    [/^google_storage_/, 'storage.googleapis.com'],
  ];

  it('enables every API a resource calls, cloudresourcemanager and iam included', () => {
    const apis: string[] = locals('modules/project').apis;
    for (const api of ['cloudresourcemanager.googleapis.com', 'iam.googleapis.com']) expect(apis).toContain(api);
    const types = new Set([...blocksOf(tree.files, 'resource'), ...blocksOf(tree.files, 'data')].map((b) => b.labels[0]!).filter((t) => t.startsWith('google_')));
    for (const type of types) {
      if (type === 'google_project_service' || type === 'google_project_service_identity') continue;
      const api = API_OF.find(([re]) => re.test(type))?.[1];
      expect(api, `no API known for ${type}: add it to API_OF`).toBeDefined();
      expect(apis, `${type} needs ${api}`).toContain(api);
    }
  });

  it('orders every module after the APIs: modules/project resources depend on them, other modules on modules/project', () => {
    for (const kind of ['resource', 'data'] as const) {
      for (const { labels, body } of blocksOf(moduleFiles(tree, 'modules/project'), kind)) {
        if (labels[0] === 'google_project_service' || labels[0] === 'time_sleep') continue;
        expect(body.depends_on, `${labels.join('.')}`).toContain('${google_project_service.apis}');
      }
    }
    const platformCalls = blocksOf(moduleFiles(tree, 'modules/platform'), 'module');
    for (const { labels, body } of platformCalls) {
      if (labels[0] === 'project') continue;
      expect(body.depends_on, `module ${labels[0]}`).toContain('${module.project}');
    }
  });
});

describe('8. service agents exist and are usable before they are granted roles', () => {
  it('creates each service agent in terraform, waits for IAM propagation, and grants only through those outputs', () => {
    const agents = locals('modules/project').service_agents;
    expect(Object.values(agents).sort()).toEqual(['bigquerydatatransfer.googleapis.com', 'firestore.googleapis.com', 'sqladmin.googleapis.com']);
    const identity = resource(tree, 'modules/project', 'google_project_service_identity', 'agent');
    expect(identity.provider).toBe('${google-beta}');
    const wait = resource(tree, 'modules/project', 'time_sleep', 'agents_propagation');
    expect(unwrap(wait.create_duration)).toBe('var.propagation_wait');
    expect(wait.triggers).toContain('google_project_service_identity.agent');
    const seconds = Number(String(variableDefault(tree, 'modules/project', 'propagation_wait')).replace('s', ''));
    expect(seconds).toBeGreaterThanOrEqual(120); // "typically 2 minutes" (IAM access change propagation)
    // no hand-built agent address anywhere: they would exist only after the API's first use
    expect(tfText()).not.toMatch(/gcp-sa-|service-\$\{/);
    const platform = moduleCalls(tree, 'dev');
    expect(platform.get('kms').cloudsql_service_agent).toBe('${module.project.service_agents["cloudsql"]}');
    expect(platform.get('firestore').firestore_service_agent).toBe('${module.project.service_agents["firestore"]}');
    expect(platform.get('bigquery').datatransfer_service_agent).toBe('${module.project.service_agents["datatransfer"]}');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).not.toContain('gcloud beta services identity create');
  });
});

describe('9. the scheduled query writes columns its destination accepts', () => {
  it('writes only into NULLABLE columns (query output is NULLABLE) and never NULL into counters', () => {
    const transfer = resource(tree, 'modules/bigquery', 'google_bigquery_data_transfer_config', 'daily_aggregates');
    const target = String(transfer.params.destination_table_name_template);
    const table = resources(tree, 'google_bigquery_table').find((t) => target.startsWith(`\${google_bigquery_table.${t.labels[1]}.table_id}`));
    expect(table, 'the destination table is declared').toBeDefined();
    const schema = String(table!.body.schema);
    const modes = [...schema.matchAll(/mode\s*=\s*"([A-Z]+)"/g)].map((m) => m[1]);
    expect(modes.length).toBeGreaterThan(5);
    expect(new Set(modes)).toEqual(new Set(['NULLABLE']));
    for (const sum of [...String(transfer.params.query).matchAll(/SUM\([a-z_]+\)/g)]) {
      expect(String(transfer.params.query), `${sum[0]} may be NULL`).toContain(`IFNULL(${sum[0]}, 0)`);
    }
  });
});

describe('10. the read replica', () => {
  it('sets no maintenance window (replicas are maintained with their primary)', () => {
    const replica = resource(tree, 'modules/cloudsql', 'google_sql_database_instance', 'replica');
    expect(first(replica.settings).maintenance_window).toBeUndefined();
    expect(first(resource(tree, 'modules/cloudsql', 'google_sql_database_instance', 'primary').settings).maintenance_window).toBeDefined();
  });
});

describe('11. one owner for the functions\' code, and object names that are never empty', () => {
  it('terraform deploys the archive the release pointer names and ignores no source change', () => {
    const fn = resource(tree, 'modules/functions', 'google_cloudfunctions2_function', 'this');
    const ignored = first(fn.lifecycle).ignore_changes ?? [];
    expect(JSON.stringify(ignored)).not.toMatch(/source|runtime|entry_point/);
    expect(first(first(first(fn.build_config).source).storage_source).object).toBe('${each.key}/${local.release}.zip');
    const pointer = blocksOf(moduleFiles(tree, 'modules/functions'), 'data').find((d) => d.labels[0] === 'google_storage_bucket_object_content');
    expect(pointer?.body.name).toBe('releases/current');
    expect(locals('modules/functions').release).toBe('${trimspace(data.google_storage_bucket_object_content.release.content)}');
    // no second deployer, no version in the tfvars an operator's apply could roll back to
    expect(cloudbuildText).not.toMatch(/functions\s+deploy/);
    expect(tfText()).not.toMatch(/source_version/);
    expect(cloudbuildText).toContain('releases/current');
  });

  it('names objects only with substitutions that are never empty', () => {
    // Built-ins empty for `gcloud builds submit` (no trigger): https://cloud.google.com/build/docs/configuring-builds/substitute-variable-values
    const maybeEmpty = /\$\{?(SHORT_SHA|COMMIT_SHA|REVISION_ID|BRANCH_NAME|TAG_NAME|REPO_NAME|REF_NAME|TRIGGER_NAME)\b/;
    const subs = cloudbuild.substitutions;
    for (const [name, value] of Object.entries(subs)) {
      expect(String(value), `${name} has no default`).not.toBe('');
      expect(String(value), `${name} may be empty`).not.toMatch(maybeEmpty);
    }
    expect(subs._SOURCE_VERSION).toBe('${BUILD_ID}');
    const gsPaths = [...cloudbuildText.matchAll(/gs:\/\/[^"\s]+/g)].map((m) => m[0]);
    expect(gsPaths.length).toBeGreaterThan(1);
    for (const path of gsPaths) {
      for (const used of path.matchAll(/(?<!\$)\$\{(\w+)\}/g)) expect(Object.keys(subs), `${path} uses ${used[1]}`).toContain(used[1]);
      expect(path).not.toMatch(maybeEmpty);
    }
    // and the upload refuses a version that is empty or not a plain name
    const upload = cloudbuild.steps.find((s) => s.id === 'upload-archives')!;
    expect(upload.args!.join(' ')).toContain('[[ "${_SOURCE_VERSION}" =~ ^[A-Za-z0-9._-]{1,64}$$ ]]');
  });
});
