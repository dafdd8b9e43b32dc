import { readFileSync } from 'node:fs';
import { isMain } from './lib/main.js';
import { printTable, x, type Cell } from './lib/table.js';

/**
 * Before/after of two saved `npm run bench -- gateway` outputs (`tsx bench/compare-runs.ts before.md
 * after.md`): per scenario, each run's own ratios against Portkey and its CPU per request side by side.
 * Only ratios and CPU time are compared across runs: absolute latencies move with the machine's load,
 * and the two runs need not have had the same neighbours. Not part of `npm run bench`.
 */
type Table = { headers: string[]; rows: string[][] };

/** The Markdown table that follows the heading starting with `title` (as bench/lib/table.ts prints it). */
export function tableAfter(text: string, title: string): Table | undefined {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`### ${title}`));
  if (at < 0) return undefined;
  const body: string[] = [];
  for (let i = at + 1; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (l.startsWith('|')) body.push(l);
    else if (body.length) break;
  }
  const cells = (l: string) => l.slice(1, -1).split('|').map((c) => c.trim());
  const [head, , ...rows] = body;
  return head ? { headers: cells(head), rows: rows.map(cells) } : undefined;
}

const num = (s: string | undefined) => (s === undefined ? Number.NaN : Number(s.replace(/[,×+]/g, '')));

function column(t: Table, name: string): number {
  const i = t.headers.indexOf(name);
  if (i < 0) throw new Error(`column "${name}" not found in: ${t.headers.join(', ')}`);
  return i;
}

export function compare(beforeText: string, afterText: string): void {
  const title = 'Relative to direct and to Portkey';
  const before = tableAfter(beforeText, title);
  const after = tableAfter(afterText, title);
  if (!before || !after) throw new Error(`no "${title}" table in ${before ? 'the after' : 'the before'} run`);
  const pick = (t: Table, scenario: string) => t.rows.find((r) => r[0] === scenario);
  const ratioOf = (t: Table, r: string[] | undefined, a: string, b: string) => (r ? num(r[column(t, a)]) / num(r[column(t, b)]) : Number.NaN);
  const cell = (t: Table, r: string[] | undefined, name: string) => (r ? num(r[column(t, name)]) : Number.NaN);
  const rows: Cell[][] = [];
  for (const b of before.rows) {
    const scenario = b[0]!;
    const a = pick(after, scenario);
    const sequential = scenario.startsWith('sequential');
    rows.push([
      scenario,
      sequential ? x(ratioOf(before, b, 'ours +p50', 'Portkey +p50')) : '—',
      sequential ? x(ratioOf(after, a, 'ours +p50', 'Portkey +p50')) : '—',
      sequential ? x(ratioOf(before, b, 'ours +p99', 'Portkey +p99')) : '—',
      sequential ? x(ratioOf(after, a, 'ours +p99', 'Portkey +p99')) : '—',
      b[column(before, 'ours/Portkey RPS')]!, a ? a[column(after, 'ours/Portkey RPS')]! : 'n/a',
      cell(before, b, 'ours CPU ms/req'), cell(after, a, 'ours CPU ms/req'),
      cell(before, b, 'ours DB CPU ms/req'), cell(after, a, 'ours DB CPU ms/req'),
      x(cell(after, a, 'ours CPU ms/req') / cell(before, b, 'ours CPU ms/req')),
      x(cell(after, a, 'ours DB CPU ms/req') / cell(before, b, 'ours DB CPU ms/req')),
    ]);
  }
  printTable(
    'Before → after (each run\'s own ratios; CPU per request)',
    ['scenario', 'added p50 / Portkey\'s, before', 'after', 'added p99 / Portkey\'s, before', 'after', 'RPS / Portkey\'s, before', 'after', 'gateway CPU ms/req, before', 'after', 'DB CPU ms/req, before', 'after', 'gateway CPU after/before', 'DB CPU after/before'],
    rows,
    ['Added latency / Portkey\'s ≤ 1.00× meets the sequential target; RPS / Portkey\'s ≥ 1.00× meets the concurrent one (2.00× is the goal).'],
  );
  const raceTitle = 'Race for a daily limit';
  const rb = tableAfter(beforeText, raceTitle);
  const ra = tableAfter(afterText, raceTitle);
  if (rb && ra) {
    const race: Cell[][] = rb.rows.map((b) => {
      const a = ra.rows.find((r) => r[0] === b[0]);
      const get = (t: Table, r: string[] | undefined, n: string) => (r ? r[column(t, n)]! : 'n/a');
      return [b[0], get(rb, b, 'granted'), get(ra, a, 'granted'), get(rb, b, 'false 429'), get(ra, a, 'false 429'), get(rb, b, 'overspend'), get(ra, a, 'overspend'), get(rb, b, 'other errors'), get(ra, a, 'other errors')];
    });
    printTable('Quota race before → after', ['clients', 'granted, before', 'after', 'false 429, before', 'after', 'overspend, before', 'after', 'errors, before', 'after'], race);
  }
}

if (isMain(import.meta.url)) {
  const [beforeFile, afterFile] = process.argv.slice(2);
  if (!beforeFile || !afterFile) throw new Error('usage: tsx bench/compare-runs.ts <before output> <after output>');
  compare(readFileSync(beforeFile, 'utf8'), readFileSync(afterFile, 'utf8'));
}
