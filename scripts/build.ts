/**
 * `npm run build [-- --zip] [fn…]`: one esbuild bundle per function, ready for
 * `gcloud functions deploy --gen2 --source=dist/<fn>`:
 *   dist/<fn>/index.js      ESM entry (for the deploy runtime's Node) + lazily loaded chunks (code splitting keeps dynamic imports lazy)
 *   dist/<fn>/package.json  only the packages the bundle leaves external, at the installed versions
 *   dist/<fn>.meta.json     esbuild metafile (what went in; not deployed)
 *   dist/sourcemaps/<fn>/   source maps of the bundle's files (not deployed)
 *   dist/archives/<fn>.zip  with --zip: the source archive terraform deploys from (<fn>/<release>.zip in GCS)
 *
 * External: functions-framework (the runtime loads it and our entry must register on that same
 * instance), the Google Cloud clients (large, gRPC/protobuf files read from disk at run time, and
 * imported lazily anyway), and native modules. Everything else is inlined, so a function carries only
 * what it imports.
 */
import { build, type Metafile, type Plugin } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');

export const EXTERNAL = ['@google-cloud/*', 'google-auth-library', 'gcp-metadata', 'google-gax', '@node-rs/*', 'pg-native', '@electric-sql/pglite'];
/**
 * External but not shipped: PGlite is the embedded development database, which production refuses
 * (config.ts), so deploys don't carry its ~15 MB; pg-native is not installed (pg's JS driver is used).
 */
const NOT_SHIPPED = new Set(['@electric-sql/pglite', 'pg-native']);

/** CJS dependencies bundled into ESM still call require() for node built-ins. */
const BANNER = "import { createRequire as __lattice_createRequire } from 'node:module';\nconst require = __lattice_createRequire(import.meta.url);";

/**
 * zod's namespace re-exports every locale (`z.locales`, ~340 KiB of the ~700 KiB zod puts in each
 * bundle); it cannot be tree-shaken because zod-to-openapi extends `z` as a value. Only English is
 * used (zod registers it as the default itself), so the bundle's `locales` namespace carries `en` alone.
 */
const ZOD_LOCALES_EN_ONLY: Plugin = {
  name: 'zod-locales-en-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), '..', 'locales', 'index.js'), namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(join(dirname(args.path), 'en.js'))};\n`,
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

/**
 * The Cloud Run functions runtime the bundles run on, stated once: the default of variable "runtime" in
 * terraform/modules/platform/variables.tf. The esbuild target and the bundles' engines follow it.
 */
export function deployRuntime(): { runtime: string; major: number } {
  const file = join(ROOT, 'terraform', 'modules', 'platform', 'variables.tf');
  const m = /variable "runtime" \{[^}]*?default\s*=\s*"(nodejs(\d+))"/.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`${file}: no default for variable "runtime" (nodejsNN)`);
  return { runtime: m[1]!, major: Number(m[2]) };
}

export function functionNames(): string[] {
  const dir = join(ROOT, 'functions');
  return readdirSync(dir)
    .filter((name) => !['shared', 'dev'].includes(name) && existsSync(join(dir, name, 'index.ts')))
    .sort();
}

const packageOf = (specifier: string) => {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
};

function installedVersion(pkg: string): string {
  const manifest = join(ROOT, 'node_modules', pkg, 'package.json');
  if (!existsSync(manifest)) throw new Error(`${pkg} is imported by a bundle but not installed (npm ci first)`);
  return JSON.parse(readFileSync(manifest, 'utf8')).version;
}

/** Packages the bundle imports but does not contain. */
export function externalPackages(meta: Metafile): string[] {
  const pkgs = new Set<string>();
  for (const output of Object.values(meta.outputs)) {
    for (const imp of output.imports) {
      if (!imp.external || imp.path.startsWith('node:') || builtinModules.includes(packageOf(imp.path))) continue;
      pkgs.add(packageOf(imp.path));
    }
  }
  return [...pkgs].sort();
}

export interface BundleResult {
  fn: string;
  dir: string;
  bytes: number;
  dependencies: Record<string, string>;
  meta: Metafile;
}

export async function buildFunction(fn: string, outRoot = DIST): Promise<BundleResult> {
  const dir = join(outRoot, fn);
  const maps = join(outRoot, 'sourcemaps', fn);
  rmSync(dir, { recursive: true, force: true });
  rmSync(maps, { recursive: true, force: true });
  const { major } = deployRuntime();
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { index: join(ROOT, 'functions', fn, 'index.ts') },
    outdir: dir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: `node${major}`,
    external: EXTERNAL,
    banner: { js: BANNER },
    chunkNames: 'chunks/[name]-[hash]',
    // Cold start parses every byte of the eager output: whitespace and syntax minification halve it.
    // Identifiers keep their names, so stack traces in the logs stay readable without a source map.
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'external',
    plugins: [ZOD_LOCALES_EN_ONLY],
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  moveSourceMaps(dir, maps);
  const dependencies: Record<string, string> = {};
  for (const pkg of externalPackages(result.metafile)) {
    if (!NOT_SHIPPED.has(pkg)) dependencies[pkg] = installedVersion(pkg);
  }
  const manifest = {
    name: `lattice-lock-${fn}`,
    version: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
    private: true,
    type: 'module',
    main: 'index.js',
    engines: { node: `>=${major}` },
    dependencies,
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(outRoot, `${fn}.meta.json`), JSON.stringify(result.metafile));
  return { fn, dir, bytes: folderBytes(dir), dependencies, meta: result.metafile };
}

/**
 * Source maps stay beside the deployable folder, not in it: the archive carries only what runs, and a
 * stack trace from the logs is mapped back here (the bundle has no sourceMappingURL comment to follow).
 */
function moveSourceMaps(dir: string, target: string): void {
  for (const file of listFiles(dir).filter((f) => f.endsWith('.map'))) {
    mkdirSync(dirname(join(target, file)), { recursive: true });
    renameSync(join(dir, file), join(target, file));
  }
}

export function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    const stat = statSync(full);
    total += stat.isDirectory() ? folderBytes(full) : stat.size;
  }
  return total;
}

// --- a small deterministic ZIP writer (deflate, fixed timestamps), so archives are reproducible ---

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const full = join(dir, entry);
      return statSync(full).isDirectory() ? listFiles(full, base) : [relative(base, full)];
    });
}

export function zipFolder(dir: string, target: string): void {
  const DOS_DATE = (1980 - 1980) << 9 | 1 << 5 | 1; // 1980-01-01, so the same input gives the same bytes
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const file of listFiles(dir)) {
    const data = readFileSync(join(dir, file));
    const packed = deflateRawSync(data, { level: 9 });
    const name = Buffer.from(file.split('\\').join('/'));
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x0314, 4); // made by: unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // -rw-r--r--
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length / 2, 8);
  end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, Buffer.concat([...locals, ...centrals, end]));
}

async function main() {
  const args = process.argv.slice(2);
  const zip = args.includes('--zip');
  const wanted = args.filter((a) => !a.startsWith('--'));
  const all = functionNames();
  const unknown = wanted.filter((fn) => !all.includes(fn));
  if (unknown.length) throw new Error(`unknown function(s): ${unknown.join(', ')} (have ${all.join(', ')})`);
  const rows: string[] = [];
  for (const fn of wanted.length ? wanted : all) {
    const started = performance.now();
    const result = await buildFunction(fn);
    if (zip) zipFolder(result.dir, join(DIST, 'archives', `${fn}.zip`));
    const kib = (result.bytes / 1024).toFixed(0).padStart(6);
    rows.push(`${fn.padEnd(10)} ${kib} KiB  ${Math.round(performance.now() - started)} ms  deps: ${Object.keys(result.dependencies).join(', ')}`);
  }
  console.log(rows.join('\n'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
