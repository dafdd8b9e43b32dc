import { existsSync, readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { blocksOf, first, parseTerraformTree, ROOT, TERRAFORM, type Json, type TfFile, type TfTree } from './hcl.js';
import type { BlockSchema } from './schema/derive-google-schema.js';

/** The parsed configuration plus the lookups the infra tests share. */
export interface OneProviderSchema {
  provider: { source: string; version: string; package: string };
  provider_config: BlockSchema;
  resource_types: Record<string, BlockSchema>;
  data_types: Record<string, BlockSchema>;
}
/** The google provider's schema, and those of the other providers (google-beta, time) by local name. */
export interface ProviderSchema extends OneProviderSchema {
  others?: Record<string, OneProviderSchema>;
}

export const ENVS = ['dev', 'prod'] as const;
export const FUNCTIONS = ['auth', 'jobs', 'projects', 'providers'] as const;
export const JOB_ENDPOINTS = [
  'drain-outbox',
  'aggregate-usage',
  'provider-health',
  'maintain-partitions',
  'cost-alerts',
  'release-reservations',
  'cleanup',
  'seal-audit',
] as const;
/** Jobs endpoints an operator calls by hand (never on a schedule). */
export const OPERATOR_ENDPOINTS = ['replay-parked'] as const;
export const SCHEMA_DIR = join(TERRAFORM, 'bigquery', 'schemas');
export const EVENT_TABLES = ['request_logs', 'audit_events', 'daily_usage'] as const;

export function providerSchema(): ProviderSchema {
  return JSON.parse(readFileSync(join(ROOT, 'test', 'support', 'infra', 'schema', 'google-provider.json'), 'utf8'));
}

let cached: Promise<TfTree> | undefined;
export const loadTree = () => (cached ??= parseTerraformTree());

export function moduleFiles(tree: TfTree, module: string): TfFile[] {
  const files = tree.modules.get(module);
  if (!files) throw new Error(`no terraform module at terraform/${module}`);
  return files;
}

/** resource "type" "name" in a module (the first body). */
export function resource(tree: TfTree, module: string, type: string, name: string): Json {
  const found = blocksOf(moduleFiles(tree, module), 'resource').find((b) => b.labels[0] === type && b.labels[1] === name);
  if (!found) throw new Error(`terraform/${module}: no resource ${type}.${name}`);
  return found.body;
}

export function resources(tree: TfTree, type: string) {
  return blocksOf(tree.files, 'resource').filter((b) => b.labels[0] === type);
}

export function variables(tree: TfTree, module: string): Map<string, Json> {
  return new Map(blocksOf(moduleFiles(tree, module), 'variable').map((b) => [b.labels[0]!, b.body]));
}

/** The default of a module variable, as a plain value. */
export function variableDefault(tree: TfTree, module: string, name: string): Json {
  const v = variables(tree, module).get(name);
  if (!v) throw new Error(`terraform/${module}: no variable ${name}`);
  return v.default;
}

export async function tfvars(env: string): Promise<Record<string, Json>> {
  const file = join(TERRAFORM, 'envs', env, 'terraform.tfvars');
  return parse(`envs/${env}/terraform.tfvars`, readFileSync(file, 'utf8'));
}

export interface ModuleCall {
  name: string;
  /** The module making the call, e.g. envs/dev or modules/platform. */
  caller: string;
  /** The called module's folder relative to terraform/, e.g. modules/cloudsql. */
  target: string;
  body: Json;
}

/**
 * Every module call an environment makes: the root's own, and those of the modules it calls, nested
 * (envs/<env> → modules/platform → modules/cloudsql …). A name may be called only once in the whole tree.
 */
export function moduleCallTree(tree: TfTree, env: string): ModuleCall[] {
  const calls: ModuleCall[] = [];
  const visit = (caller: string) => {
    for (const { labels, body } of blocksOf(moduleFiles(tree, caller), 'module')) {
      const name = labels[0]!;
      if (calls.some((c) => c.name === name)) throw new Error(`envs/${env}: module ${name} is called twice`);
      const target = normalize(join(caller, body.source));
      calls.push({ name, caller, target, body });
      visit(target);
    }
  };
  visit(`envs/${env}`);
  return calls;
}

/** Module calls of an environment, through the composition modules it calls, by name. */
export function moduleCalls(tree: TfTree, env: string): Map<string, Json> {
  return new Map(moduleCallTree(tree, env).map((c) => [c.name, c.body]));
}

/**
 * The default an environment gets for a variable: the root's, or where the root leaves it null, the
 * default of the module variable the root passes it to unchanged (followed through nested calls).
 */
export function environmentDefault(tree: TfTree, env: string, name: string): Json {
  const resolve = (module: string, variable: string): Json => {
    const value = variableDefault(tree, module, variable);
    if (value !== null && value !== undefined) return value;
    for (const call of moduleCallTree(tree, env).filter((c) => c.caller === module)) {
      const input = Object.entries<Json>(call.body).find(([, v]) => unwrap(v) === `var.${variable}`);
      if (input) return resolve(call.target, input[0]);
    }
    return value;
  };
  return resolve(`envs/${env}`, name);
}

/** "${var.x}" → "var.x"; other values unchanged. */
export const unwrap = (value: Json): Json =>
  typeof value === 'string' && value.startsWith('${') && value.endsWith('}') && !value.includes('${', 2) ? value.slice(2, -1).trim() : value;

/** Fields of a BigQuery schema file, or undefined while it does not exist yet. */
export function bigquerySchema(table: string): Array<{ name: string; type: string; mode?: string }> | undefined {
  const file = join(SCHEMA_DIR, `${table}.json`);
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, 'utf8'));
  return Array.isArray(parsed) ? parsed : parsed.fields;
}

/** Names of the environment variables config.ts reads, and those production refuses to start without. */
export function configVariables(): { all: Set<string>; requiredInProduction: Set<string> } {
  const source = readFileSync(join(ROOT, 'functions', 'shared', 'config.ts'), 'utf8');
  const schema = source.slice(source.indexOf('z.object({'), source.indexOf('});', source.indexOf('z.object({')));
  const all = new Set([...schema.matchAll(/^\s{2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!));
  const prod = source.slice(source.indexOf('function assertProduction'));
  const requiredInProduction = new Set([...prod.matchAll(/refuse\('([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]!));
  return { all, requiredInProduction };
}

export { blocksOf, first, type Json, type TfFile, type TfTree };
