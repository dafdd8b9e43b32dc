import { dirname, join, normalize } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { blocksOf, expressions, type Json, type TfFile, type TfTree } from './hcl.js';
import type { OneProviderSchema, ProviderSchema } from './model.js';
import { providerOf, type BlockSchema } from './schema/derive-google-schema.js';

/**
 * The static checks `terraform validate` would make, as functions returning error lists so the tests
 * can show each one both passes on terraform/ and catches a broken configuration.
 */
const META_TOP = new Set(['count', 'for_each', 'depends_on', 'provider', 'lifecycle', 'provisioner', 'connection']);
const MODULE_META = new Set(['source', 'version', 'count', 'for_each', 'depends_on', 'providers']);

const isBlockList = (v: Json) => Array.isArray(v) && v.every((x) => x && typeof x === 'object' && !Array.isArray(x));

function checkBody(body: Json, block: BlockSchema, where: string, errors: string[], top: boolean): void {
  for (const [key, value] of Object.entries<Json>(body)) {
    if (top && META_TOP.has(key)) continue;
    if (key === 'dynamic') {
      for (const [name, defs] of Object.entries<Json[]>(value)) {
        const nested = block.blocks[name];
        if (!nested) {
          errors.push(`${where}: dynamic "${name}" is not a block of this type`);
          continue;
        }
        for (const def of defs) for (const content of def.content ?? []) checkBody(content, nested, `${where}.${name}`, errors, false);
      }
      continue;
    }
    const nested = block.blocks[key];
    if (nested) {
      if (!isBlockList(value)) errors.push(`${where}.${key}: is a block, not an argument`);
      else for (const item of value) checkBody(item, nested, `${where}.${key}`, errors, false);
    } else if (block.computed.includes(key)) {
      errors.push(`${where}.${key}: is read-only (computed)`);
    } else if (!block.attributes.includes(key)) {
      errors.push(`${where}.${key}: unknown argument`);
    }
  }
}

/** Expressions of a module; `moved` blocks hold addresses, not references, and are checked by movedErrors. */
const moduleText = (files: TfFile[]) => files.flatMap((f) => expressions({ ...f.json, moved: undefined }));

/** The schema of the provider a block uses (google, or one of schema.others such as google-beta, time). */
const providerSchemaOf = (schema: ProviderSchema, name: string): OneProviderSchema | undefined => (name === 'google' ? schema : schema.others?.[name]);

/** Unknown types, arguments and blocks; computed attributes set. */
export function schemaErrors(tree: TfTree, schema: ProviderSchema): string[] {
  const errors: string[] = [];
  for (const kind of ['resource', 'data'] as const) {
    for (const { file, labels, body } of blocksOf(tree.files, kind)) {
      const type = labels[0]!;
      const provider = providerOf(type, body);
      const own = providerSchemaOf(schema, provider);
      const block = own && (kind === 'resource' ? own.resource_types : own.data_types)[type];
      const where = `${file.path}: ${kind === 'data' ? 'data.' : ''}${type}.${labels[1]}`;
      if (!block) errors.push(`${where}: unknown ${kind} type of provider ${provider} (or missing from schema/google-provider.json: re-derive it)`);
      else checkBody(body, block, where, errors, true);
    }
  }
  for (const { file, labels, body } of blocksOf(tree.files, 'provider')) {
    const own = providerSchemaOf(schema, labels[0]!);
    if (own) checkBody(body, own.provider_config, `${file.path}: provider ${labels[0]}`, errors, true);
    else errors.push(`${file.path}: provider ${labels[0]} has no schema in schema/google-provider.json`);
  }
  return errors;
}

/** google_x.name[…].attr[…].sub… and data.google_x.name.attr against declarations and the schema. */
export function referenceErrors(tree: TfTree, schema: ProviderSchema): string[] {
  const errors: string[] = [];
  const tail = String.raw`\.([a-z_][a-z0-9_-]*)((?:\[[^\]]*\])?(?:\.[a-z_][a-z0-9_]*(?:\[[^\]]*\])?)*)`;
  for (const [module, files] of tree.modules) {
    for (const kind of ['resource', 'data'] as const) {
      const declared = new Set(blocksOf(files, kind).map((b) => `${b.labels[0]}.${b.labels[1]}`));
      const types = Object.assign({}, ...[schema, ...Object.values(schema.others ?? {})].map((p) => (kind === 'data' ? p.data_types : p.resource_types)));
      const re = new RegExp(`${kind === 'data' ? String.raw`\bdata\.` : String.raw`(?<![\w.])`}((?:google|time)_[a-z0-9_]+)${tail}`, 'g');
      for (const expr of moduleText(files)) {
        for (const [, type, name, rest] of expr.matchAll(re)) {
          const label = `${kind === 'data' ? 'data.' : ''}${type}.${name}`;
          if (!declared.has(`${type}.${name}`)) {
            errors.push(`${module}: ${label} is not declared in this module`);
            continue;
          }
          let block: BlockSchema | undefined = types[type!];
          for (const step of rest!.replace(/\[[^\]]*\]/g, '').split('.').filter(Boolean)) {
            if (!block) break;
            if (block.blocks[step]) block = block.blocks[step];
            else if (block.attributes.includes(step) || block.computed.includes(step)) block = undefined;
            else {
              errors.push(`${module}: ${label} has no attribute ${step}`);
              break;
            }
          }
        }
      }
    }
  }
  return errors;
}

/** Variables used but not declared or declared but unused, without type or description; undefined locals. */
export function variableErrors(tree: TfTree): string[] {
  const errors: string[] = [];
  for (const [module, files] of tree.modules) {
    const declared = new Map(blocksOf(files, 'variable').map((b) => [b.labels[0]!, b.body]));
    const text = moduleText(files).join('\n');
    const used = new Set([...text.matchAll(/\bvar\.([a-z_][a-z0-9_]*)/g)].map((m) => m[1]!));
    for (const name of used) if (!declared.has(name)) errors.push(`${module}: var.${name} is used but not declared`);
    for (const [name, body] of declared) {
      if (!used.has(name)) errors.push(`${module}: variable "${name}" is declared but never used`);
      if (!body.description) errors.push(`${module}: variable "${name}" has no description`);
      if (!body.type) errors.push(`${module}: variable "${name}" has no type`);
    }
    const locals = new Set(blocksOf(files, 'locals').flatMap((b) => Object.keys(b.body)));
    for (const m of text.matchAll(/\blocal\.([a-z_][a-z0-9_]*)/g)) if (!locals.has(m[1]!)) errors.push(`${module}: local.${m[1]} is not defined`);
  }
  return errors;
}

/** Module calls: sources exist, inputs are declared variables, required ones are passed, outputs read exist. */
export function moduleErrors(tree: TfTree): string[] {
  const errors: string[] = [];
  for (const [module, files] of tree.modules) {
    const targets = new Map<string, string>();
    for (const { labels, body: call } of blocksOf(files, 'module')) {
      const name = labels[0]!;
      const target = normalize(join(module, call.source));
      targets.set(name, target);
      const targetFiles = tree.modules.get(target);
      if (!targetFiles) {
        errors.push(`${module}: module ${name} source ${call.source} does not exist`);
        continue;
      }
      const declared = new Map(blocksOf(targetFiles, 'variable').map((b) => [b.labels[0]!, b.body]));
      const inputs = Object.keys(call).filter((k) => !MODULE_META.has(k));
      for (const input of inputs) if (!declared.has(input)) errors.push(`${module}: module ${name} passes ${input}, not a variable of ${target}`);
      for (const [v, body] of declared) if (!('default' in body) && !inputs.includes(v)) errors.push(`${module}: module ${name} misses required ${v}`);
    }
    for (const m of moduleText(files).join('\n').matchAll(/\bmodule\.([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)/g)) {
      const target = targets.get(m[1]!);
      if (!target) {
        errors.push(`${module}: module.${m[1]} is not called here`);
        continue;
      }
      const outputs = new Set(blocksOf(tree.modules.get(target) ?? [], 'output').map((b) => b.labels[0]));
      if (!outputs.has(m[2]!)) errors.push(`${module}: module.${m[1]}.${m[2]} is not an output of ${target}`);
    }
  }
  return errors;
}

/**
 * moved blocks: `to` must name a module call or resource that exists (through nested module calls, and
 * a declared for_each key of a local map), and `from` must no longer exist (terraform refuses both).
 */
export function movedErrors(tree: TfTree): string[] {
  const errors: string[] = [];
  const address = (value: Json) => (typeof value === 'string' && value.startsWith('${') && value.endsWith('}') ? value.slice(2, -1).trim() : undefined);
  /** Whether an address (module.a.module.b, or …google_x.name / google_x.name["key"]) exists from a module. */
  const exists = (module: string, addr: string): boolean => {
    const call = addr.match(/^module\.([a-z_][a-z0-9_-]*)(?:\.(.+))?$/);
    if (call) {
      const body = blocksOf(tree.modules.get(module) ?? [], 'module').find((b) => b.labels[0] === call[1])?.body;
      if (!body) return false;
      return call[2] === undefined || exists(normalize(join(module, body.source)), call[2]);
    }
    const res = addr.match(/^(data\.)?(google_[a-z0-9_]+)\.([a-z_][a-z0-9_-]*)(?:\["([^"]*)"\])?$/);
    if (!res) return false;
    const files = tree.modules.get(module) ?? [];
    const found = blocksOf(files, res[1] ? 'data' : 'resource').find((b) => b.labels[0] === res[2] && b.labels[1] === res[3]);
    if (!found || res[4] === undefined) return Boolean(found);
    const forEach = String(found.body.for_each ?? '').match(/^\$\{local\.([a-z_][a-z0-9_]*)\}$/);
    if (!forEach) return true; // keys of a computed for_each are not known statically
    const local = blocksOf(files, 'locals').map((b) => b.body[forEach[1]!]).find((v) => v !== undefined);
    return Boolean(local && typeof local === 'object' && res[4] in local);
  };
  for (const [module, files] of tree.modules) {
    for (const { body } of blocksOf(files, 'moved')) {
      const from = address(body.from);
      const to = address(body.to);
      if (!from || !to) {
        errors.push(`${module}: moved block needs from and to addresses`);
        continue;
      }
      if (!exists(module, to)) errors.push(`${module}: moved to ${to}, which does not exist`);
      if (exists(module, from)) errors.push(`${module}: moved from ${from}, which still exists`);
    }
  }
  return errors;
}

/** A tree from in-memory files, for showing that each check catches what it should. */
export async function treeFromTexts(texts: Record<string, string>): Promise<TfTree> {
  const files: TfFile[] = [];
  for (const [path, text] of Object.entries(texts)) files.push({ path, module: dirname(path), text, json: await parse(path, text) });
  const modules = new Map<string, TfFile[]>();
  for (const file of files) modules.set(file.module, [...(modules.get(file.module) ?? []), file]);
  return { files, modules };
}
