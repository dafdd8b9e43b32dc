import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/infra/hcl.js';

/**
 * The room boundaries of docs/architecture.md, checked on every relative import (type-only ones too:
 * they couple the rooms at compile time). A crossing fails with the importing file and what it imports.
 */
const FUNCTIONS = ['auth', 'projects', 'providers', 'jobs'];

function roomOf(path: string): string {
  const [top, second] = path.split('/');
  if (top === 'functions') {
    if (second === 'shared') return 'kernel';
    if (second === 'dev') return 'dev';
    return `fn:${second}`;
  }
  if (top === 'drizzle') return path.startsWith('drizzle/schema/') || path.startsWith('drizzle/migrations/') ? 'drizzle' : 'drizzle:other';
  if (top === 'scripts') return 'scripts';
  return top ?? '';
}

/** Why `from` must not import `to`, or undefined when the import is allowed. */
function crossing(from: string, to: string): string | undefined {
  const a = roomOf(from);
  const b = roomOf(to);
  if (a === b) return undefined;
  if (a === 'drizzle:other') return 'drizzle/ holds schema and migrations only';
  if (a === 'drizzle') return 'the schema imports nothing of the runtime, the scripts or the tests';
  if (a === 'kernel') {
    if (b === 'drizzle' || to.startsWith('terraform/bigquery/schemas/')) return undefined;
    return 'the kernel imports only itself, the schema and the BigQuery schema files, never a function, a script or a test';
  }
  if (a.startsWith('fn:')) {
    if (b === 'kernel' || b === 'drizzle') return undefined;
    // The scheduler's work on another function's data goes through that function's published entry.
    if (a === 'fn:jobs' && /^functions\/[a-z]+\/service\/maintenance\.(ts|js)$/.test(to)) return undefined;
    if (b.startsWith('fn:')) return `a function never imports another function (${a.slice(3)} → ${b.slice(3)}): shared pieces belong in the kernel`;
    return 'a function imports only the kernel and the schema';
  }
  if (a === 'dev') return b === 'test' || b === 'bench' ? 'the dev server never imports tests or benchmarks' : undefined;
  if (a === 'scripts') return b === 'test' || b === 'bench' || b === 'dev' ? 'scripts import only functions/, drizzle/ and each other' : undefined;
  return undefined;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)'(\.{1,2}\/[^']+)'/gm;

function importsOf(text: string): string[] {
  return [...text.matchAll(SPECIFIER)].map((m) => m[1]!);
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(path));
    else if (/\.(ts|mts)$/.test(entry.name)) out.push(path);
  }
  return out;
}

function offenders(): string[] {
  const found: string[] = [];
  for (const file of ['functions', 'drizzle', 'scripts'].flatMap(sources)) {
    for (const spec of importsOf(readFileSync(join(ROOT, file), 'utf8'))) {
      const target = relative(ROOT, join(ROOT, dirname(file), spec)).split(sep).join('/');
      const why = crossing(file, target);
      if (why) found.push(`${file} imports ${target}: ${why}`);
    }
  }
  return found;
}

describe('room boundaries (docs/architecture.md)', () => {
  it('the rule itself: each forbidden direction is caught, the allowed ones pass', () => {
    expect(crossing('functions/jobs/services.ts', 'functions/providers/service/notifier.ts')).toMatch(/never imports another function/);
    expect(crossing('functions/projects/service/x.ts', 'functions/providers/service/maintenance.ts')).toMatch(/never imports another function/);
    expect(crossing('functions/jobs/routes/maintenance.ts', 'functions/providers/service/maintenance.js')).toBeUndefined();
    expect(crossing('functions/shared/events/schemas.ts', 'terraform/bigquery/schemas/audit_events.json')).toBeUndefined();
    expect(crossing('functions/shared/events/drain.ts', 'functions/jobs/service/runner.ts')).toMatch(/kernel imports only/);
    expect(crossing('drizzle/schema/auth.ts', 'functions/shared/db/rows.ts')).toMatch(/schema imports nothing/);
    expect(crossing('drizzle/cli.ts', 'drizzle/schema/index.ts')).toMatch(/schema and migrations only/);
    expect(crossing('functions/auth/app.ts', 'test/support/app.ts')).toMatch(/only the kernel and the schema/);
    expect(crossing('scripts/db/migrate.ts', 'test/support/db.ts')).toMatch(/scripts import only/);
    expect(crossing('functions/providers/app.ts', 'functions/shared/http/index.ts')).toBeUndefined();
    expect(crossing('functions/shared/security/tokens.ts', 'drizzle/schema/roles.ts')).toBeUndefined();
    expect(crossing('functions/dev/server.ts', 'scripts/db/migrator.ts')).toBeUndefined();
    expect(importsOf("import { a } from '../x.js';\nimport type { B } from './y.js';\nconst m = await import('../../z.js');\nimport './side.js';\nexport { c } from './w.js';"))
      .toEqual(['../x.js', './y.js', '../../z.js', './side.js', './w.js']);
  });

  it('functions/, drizzle/ and scripts/ cross no boundary', () => {
    expect(FUNCTIONS.every((fn) => sources(`functions/${fn}`).length > 0)).toBe(true);
    expect(offenders()).toEqual([]);
  });
});
