/**
 * Derives test/support/infra/schema/google-provider.json — the trimmed provider schema the terraform tests check
 * against — from the prebuilt bindings in the npm package @cdktf/provider-google, which are generated
 * from `terraform providers schema -json` of the google provider it names in its package.json
 * (`cdktf.provider.version`). The package is ~300 MB unpacked, so it is not a devDependency: unpack it
 * once, run this, and commit the JSON.
 *
 *   npm pack @cdktf/provider-google@16.12.1 && mkdir /tmp/pg && tar xzf cdktf-provider-google-16.12.1.tgz -C /tmp/pg
 *   npx tsx test/support/infra/schema/derive-google-schema.ts /tmp/pg/package [google-beta=<dir>] [time=<dir>]
 *
 * The other providers the configuration uses (google-beta for beta-only types such as
 * google_project_service_identity, time for time_sleep) come from their own cdktf packages
 * (@cdktf/provider-google-beta@16.12.1 = google-beta 6.50.0, @cdktf/provider-time@11.0.1 = time 0.13.1),
 * passed as name=dir; a resource is checked against the provider its `provider` argument (or its type's
 * prefix) names.
 *
 * Only the resource and data types used under terraform/ are kept (plus a few spares listed below),
 * so adding a new type to terraform/ means running this again.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTerraformTree } from '../hcl.js';

export interface BlockSchema {
  /** Arguments a configuration may set. */
  attributes: string[];
  /** Read-only attributes: may be referenced, never set. */
  computed: string[];
  blocks: Record<string, BlockSchema>;
}

interface TypeSource {
  type: string;
  kind: 'resource' | 'data';
  file: string;
}

const HERE = dirname(fileURLToPath(import.meta.url));

/** Keys of the object literal a generated `…ToTerraform` / `synthesizeAttributes` returns, with the nested mapper each uses. */
function returnedKeys(body: string): Map<string, string | undefined> {
  const keys = new Map<string, string | undefined>();
  const ret = body.lastIndexOf('return {');
  if (ret < 0) return keys;
  for (const line of body.slice(ret).split('\n')) {
    const m = /^\s+(\w+): (.*),$/.exec(line);
    if (!m) continue;
    const nested = /(?:^|[(\s])(\w+)ToTerraform\b/.exec(m[2]!.replace(/cdktf\.\w+ToTerraform/g, ''));
    keys.set(m[1]!, nested?.[1]);
  }
  return keys;
}

function functionBodies(js: string): Map<string, string> {
  const bodies = new Map<string, string>();
  const re = /^function (\w+)ToTerraform\(struct\) \{\n([\s\S]*?)^\}/gm;
  for (const m of js.matchAll(re)) bodies.set(m[1]!, m[2]!);
  return bodies;
}

function classBody(js: string, className: string): string {
  const start = js.indexOf(`class ${className} extends`);
  if (start < 0) return '';
  const end = js.indexOf('\n}\n', start);
  return js.slice(start, end < 0 ? undefined : end);
}

/** Attribute names a generated class reads: computed attributes and nested block handles. */
function classAttributes(body: string): string[] {
  const names = new Set<string>();
  for (const m of body.matchAll(/this\.get\w*Attribute\('(\w+)'\)/g)) names.add(m[1]!);
  for (const m of body.matchAll(/this\.interpolationForAttribute\('(\w+)'\)/g)) names.add(m[1]!);
  for (const m of body.matchAll(/new [\w.]+\(this, "(\w+)"/g)) names.add(m[1]!);
  return [...names];
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function blockFrom(js: string, bodies: Map<string, string>, prefix: string, depth = 0): BlockSchema {
  const keys = returnedKeys(bodies.get(prefix) ?? '');
  const blocks: Record<string, BlockSchema> = {};
  const attributes = new Set<string>();
  for (const [key, nested] of keys) {
    if (nested && depth < 8) blocks[key] = blockFrom(js, bodies, nested, depth + 1);
    else attributes.add(key);
  }
  const computed = classAttributes(classBody(js, `${capitalise(prefix)}OutputReference`)).filter((n) => !blocks[n] && !attributes.has(n));
  return { attributes: [...attributes].sort(), computed: computed.sort(), blocks };
}

export function deriveType(js: string): BlockSchema {
  const bodies = functionBodies(js);
  const main = /^class (\w+) extends cdktf\.(TerraformResource|TerraformDataSource|TerraformProvider) \{/m.exec(js);
  if (!main) throw new Error('no generated resource class found');
  const body = classBody(js, main[1]!);
  const synth = /synthesizeAttributes\(\) \{\n([\s\S]*?)\n {4}\}/.exec(body)?.[1] ?? '';
  const blocks: Record<string, BlockSchema> = {};
  const attributes = new Set<string>();
  for (const [key, nested] of returnedKeys(synth)) {
    if (nested) blocks[key] = blockFrom(js, bodies, nested);
    else attributes.add(key);
  }
  const computed = classAttributes(body).filter((n) => !blocks[n] && !attributes.has(n));
  return { attributes: [...attributes].sort(), computed: computed.sort(), blocks };
}

function indexTypes(lib: string): Map<string, TypeSource> {
  const types = new Map<string, TypeSource>();
  for (const dir of readdirSync(lib)) {
    let js: string;
    try {
      js = readFileSync(join(lib, dir, 'index.js'), 'utf8');
    } catch {
      continue;
    }
    const m = /terraformResourceType: '(\w+)'/.exec(js);
    if (!m) continue;
    const kind = dir.startsWith('data-') ? 'data' : 'resource';
    types.set(`${kind}:${m[1]}`, { type: m[1]!, kind, file: join(lib, dir, 'index.js') });
  }
  return types;
}

/** The provider (local name) a resource or data block uses: its `provider` argument, else its type's prefix. */
export function providerOf(type: string, body: { provider?: unknown }): string {
  const explicit = typeof body.provider === 'string' ? body.provider.replace(/^\$\{(.*)\}$/, '$1').split('.')[0]! : undefined;
  return explicit ?? type.split('_')[0]!;
}

interface ProviderOut {
  provider: { source: string; version: string; package: string };
  provider_config: BlockSchema;
  resource_types: Record<string, BlockSchema>;
  data_types: Record<string, BlockSchema>;
}

function deriveProvider(pkgDir: string, wanted: string[]): ProviderOut {
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const lib = join(pkgDir, 'lib');
  const types = indexTypes(lib);
  const out: ProviderOut = {
    provider: { source: pkg.cdktf.provider.name, version: pkg.cdktf.provider.version, package: `${pkg.name}@${pkg.version}` },
    provider_config: deriveType(readFileSync(join(lib, 'provider', 'index.js'), 'utf8')),
    resource_types: {},
    data_types: {},
  };
  for (const key of [...wanted].sort()) {
    const source = types.get(key);
    if (!source) {
      console.error(`not in ${pkg.name}: ${key}`);
      continue;
    }
    const schema = deriveType(readFileSync(source.file, 'utf8'));
    (source.kind === 'resource' ? out.resource_types : out.data_types)[source.type] = schema;
  }
  return out;
}

async function main() {
  const [pkgDir, ...rest] = process.argv.slice(2);
  if (!pkgDir) throw new Error('usage: derive-google-schema.ts <unpacked @cdktf/provider-google package dir> [name=<dir>…]');
  const others = Object.fromEntries(rest.map((arg) => arg.split('=') as [string, string]));
  const tree = await parseTerraformTree();
  const wanted = new Map<string, Set<string>>();
  for (const file of tree.files) {
    for (const kind of ['resource', 'data'] as const) {
      for (const [type, named] of Object.entries<Record<string, any>>(file.json[kind] ?? {})) {
        for (const body of Object.values(named).flat()) {
          const provider = providerOf(type, body);
          if (!wanted.has(provider)) wanted.set(provider, new Set());
          wanted.get(provider)!.add(`${kind}:${type}`);
        }
      }
    }
  }
  const google = deriveProvider(pkgDir, [...(wanted.get('google') ?? [])]);
  const out = {
    $comment: `Trimmed from npm ${google.provider.package} (bindings generated from ${google.provider.source} ${google.provider.version})${Object.keys(others).length ? ' and the packages in others' : ''} by test/support/infra/schema/derive-google-schema.ts`,
    ...google,
    others: {} as Record<string, ProviderOut>,
  };
  for (const [name, dir] of Object.entries(others)) out.others[name] = deriveProvider(dir, [...(wanted.get(name) ?? [])]);
  for (const name of wanted.keys()) if (name !== 'google' && !others[name]) console.error(`no package given for provider ${name}`);
  const target = join(HERE, 'google-provider.json');
  writeFileSync(target, `${JSON.stringify(out, null, 1)}\n`);
  console.log(`wrote ${target}: ${Object.keys(out.resource_types).length} resource types, ${Object.keys(out.data_types).length} data types; others: ${Object.keys(out.others).join(', ')}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
