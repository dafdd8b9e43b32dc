import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { blocksOf, ROOT } from '../support/infra/hcl.js';
import { loadTree, moduleFiles } from '../support/infra/model.js';
import { functionNames } from '../../scripts/build.js';

/** cloudbuild.yaml: parses, runs the pipeline in order, and deploys every function the build bundles. */
interface Step {
  id: string;
  name: string;
  entrypoint?: string;
  args?: string[];
  env?: string[];
  waitFor?: string[];
}

let doc: { substitutions: Record<string, string>; options: Record<string, any>; steps: Step[] };
let text: string;
beforeAll(() => {
  text = readFileSync(join(ROOT, 'cloudbuild.yaml'), 'utf8');
  doc = parse(text);
});

const step = (id: string) => {
  const found = doc.steps.find((s) => s.id === id);
  if (!found) throw new Error(`cloudbuild.yaml has no step ${id}`);
  return found;
};
const command = (s: Step) => [s.entrypoint ?? '', ...(s.args ?? [])].join(' ');

/** Every step a step waits for, transitively (a step without waitFor waits for all before it). */
function dependsOn(id: string, seen = new Set<string>()): Set<string> {
  const index = doc.steps.findIndex((s) => s.id === id);
  const s = doc.steps[index]!;
  const direct = s.waitFor ?? doc.steps.slice(0, index).map((p) => p.id);
  for (const dep of direct) {
    if (dep === '-' || seen.has(dep)) continue;
    seen.add(dep);
    dependsOn(dep, seen);
  }
  return seen;
}

describe('cloudbuild.yaml', () => {
  it('parses, has unique step ids, and every waitFor names an earlier step', () => {
    expect(Array.isArray(doc.steps)).toBe(true);
    const ids = doc.steps.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    doc.steps.forEach((s, i) => {
      for (const dep of s.waitFor ?? []) if (dep !== '-') expect(ids.slice(0, i), `${s.id} waits for ${dep}`).toContain(dep);
    });
  });

  it('has substitutions for project, region and environment, and defines every substitution it uses', () => {
    expect(Object.keys(doc.substitutions)).toEqual(expect.arrayContaining(['_PROJECT', '_REGION', '_ENV']));
    const used = new Set([...text.matchAll(/\$\{(_[A-Z_]+)\}/g)].map((m) => m[1]!));
    for (const name of used) expect(doc.substitutions, name).toHaveProperty(name);
    for (const name of Object.keys(doc.substitutions)) expect(used.has(name), `${name} is never used`).toBe(true);
    expect(doc.options.dynamicSubstitutions).toBe(true);
    expect(doc.options.pool.name).toBe('${_POOL}');
  });

  it('installs, typechecks and tests against a PostgreSQL container and the Firestore emulator', () => {
    expect(command(step('install'))).toBe('npm ci');
    expect(command(step('typecheck'))).toBe('npm run typecheck');
    expect(step('postgres').args).toEqual(expect.arrayContaining(['--network=cloudbuild', '--name=postgres']));
    expect(step('postgres').args!.some((a) => a.startsWith('postgres:15'))).toBe(true);
    expect(command(step('firestore-emulator'))).toContain('gcloud emulators firestore start --host-port=0.0.0.0:8681');
    const test = step('test');
    expect(command(test)).toBe('npm test');
    expect(test.env).toEqual(expect.arrayContaining(['TEST_DATABASE_URL=postgres://postgres@postgres:5432/test', 'FIRESTORE_EMULATOR_HOST=firestore:8681']));
    expect([...dependsOn('test')]).toEqual(expect.arrayContaining(['install', 'typecheck', 'postgres', 'firestore-emulator', 'wait-for-services']));
  });

  it('builds the bundles after the tests and migrates through the Cloud SQL Auth Proxy on the private IP', () => {
    expect(command(step('build'))).toBe('npm run build -- --zip');
    expect(dependsOn('build').has('test')).toBe(true);
    const proxy = step('cloud-sql-proxy');
    expect(proxy.args!.some((a) => a.startsWith('gcr.io/cloud-sql-connectors/cloud-sql-proxy:2'))).toBe(true);
    expect(proxy.args).toEqual(expect.arrayContaining(['--private-ip', '--auto-iam-authn', '${_PROJECT}:${_REGION}:lattice-${_ENV}']));
    const migrate = command(step('migrate'));
    expect(migrate).toContain('@cloudsql-proxy:5432/lattice');
    expect(migrate).toContain('npm run db:migrate');
    expect([...dependsOn('migrate')]).toEqual(expect.arrayContaining(['cloud-sql-proxy', 'test']));
  });

  it('uploads every bundle under a new version, points the release at it, then lets terraform deploy', () => {
    const functions = functionNames();
    expect(functions).toEqual(['auth', 'jobs', 'projects', 'providers']);
    const upload = command(step('upload-archives'));
    for (const fn of functions) expect(upload).toContain(fn);
    expect(upload).toContain('gs://${_PROJECT}-lattice-functions-${_ENV}/$${fn}/${_SOURCE_VERSION}.zip');
    expect(upload).toContain('--no-clobber');
    const release = command(step('release'));
    expect(release).toContain('gs://${_PROJECT}-lattice-functions-${_ENV}/releases/current');
    expect([...dependsOn('release')]).toEqual(expect.arrayContaining(['migrate', 'upload-archives', 'build', 'test']));
    const deploy = step('deploy');
    expect(deploy.name).toBe('${_TERRAFORM_IMAGE}');
    expect(command(deploy)).toContain('terraform init -input=false -backend-config="bucket=${_STATE_BUCKET}"');
    expect(command(deploy)).toContain('terraform apply -input=false -auto-approve -target=module.platform.module.functions.google_cloudfunctions2_function.this');
    expect(command(deploy)).toContain('cd terraform/envs/${_ENV}');
    expect(dependsOn('deploy').has('release')).toBe(true);
    // terraform is the only deployer: no gcloud functions deploy, no runtime stated here
    expect(text).not.toMatch(/functions\s+deploy|- deploy\n/);
    expect(text).not.toMatch(/--runtime|nodejs\d+/);
  });

  it('deploys to the function names and source bucket terraform creates', async () => {
    const tree = await loadTree();
    const locals = Object.assign({}, ...blocksOf(moduleFiles(tree, 'modules/functions'), 'locals').map((b) => b.body));
    expect(locals.names).toBe('${{ for fn, _ in var.functions : fn => "lattice-${fn}-${var.environment}" }}');
    const bucket = blocksOf(moduleFiles(tree, 'modules/functions'), 'resource').find((r) => r.labels[1] === 'source')!.body;
    expect(bucket.name).toBe('${var.project_id}-lattice-functions-${var.environment}');
    expect(command(step('upload-archives'))).toContain('gs://${_PROJECT}-lattice-functions-${_ENV}/');
    const instance = blocksOf(moduleFiles(tree, 'modules/cloudsql'), 'locals')[0]!.body.instance_name;
    expect(instance).toBe('lattice-${var.environment}');
  });
});
