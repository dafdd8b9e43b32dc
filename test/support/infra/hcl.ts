import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';

/**
 * Loads every .tf file under terraform/ through @cdktf/hcl2json (HashiCorp's HCL2 parser compiled to
 * WASM, no network): a syntax error fails here exactly as `terraform init` would.
 * Blocks come back as arrays of objects; expressions as "${…}" strings.
 */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const TERRAFORM = join(ROOT, 'terraform');

export type Json = any;

export interface TfFile {
  /** Path relative to terraform/, e.g. modules/kms/main.tf */
  path: string;
  /** Folder relative to terraform/: the terraform module it belongs to. */
  module: string;
  text: string;
  json: Json;
}

export interface TfTree {
  files: TfFile[];
  modules: Map<string, TfFile[]>;
}

function listTf(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('.')) continue;
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...listTf(full));
    else if (entry.endsWith('.tf')) out.push(full);
  }
  return out.sort();
}

export async function parseTerraformTree(root = TERRAFORM): Promise<TfTree> {
  const files: TfFile[] = [];
  for (const full of listTf(root)) {
    const text = readFileSync(full, 'utf8');
    const path = relative(root, full);
    const json = await parse(path, text);
    files.push({ path, module: dirname(path), text, json });
  }
  const modules = new Map<string, TfFile[]>();
  for (const file of files) modules.set(file.module, [...(modules.get(file.module) ?? []), file]);
  return { files, modules };
}

/** All blocks of one kind (resource, data, variable, module, output…) in a terraform module, by label. */
export function blocksOf(files: TfFile[], kind: string): Array<{ file: TfFile; labels: string[]; body: Json }> {
  const out: Array<{ file: TfFile; labels: string[]; body: Json }> = [];
  for (const file of files) {
    const section = file.json[kind];
    if (!section) continue;
    if (kind === 'resource' || kind === 'data') {
      for (const [type, byName] of Object.entries<Json>(section)) {
        for (const [name, bodies] of Object.entries<Json[]>(byName)) for (const body of bodies) out.push({ file, labels: [type, name], body });
      }
    } else if (Array.isArray(section)) {
      for (const body of section) out.push({ file, labels: [], body });
    } else {
      for (const [name, bodies] of Object.entries<Json[]>(section)) for (const body of bodies) out.push({ file, labels: [name], body });
    }
  }
  return out;
}

/** Every "${…}" expression string anywhere in a parsed value. */
export function expressions(value: Json): string[] {
  if (typeof value === 'string') return value.includes('${') ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(expressions);
  if (value && typeof value === 'object') return Object.values(value).flatMap(expressions);
  return [];
}

/** The first block of a nested block list (`settings[0]`), or undefined. */
export const first = (value: Json): Json => (Array.isArray(value) ? value[0] : value);
