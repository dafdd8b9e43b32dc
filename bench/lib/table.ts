/**
 * Markdown tables on stdout: readable in a terminal and pasted as-is into BENCHMARKS.md.
 * Numbers are right-aligned, text left-aligned.
 */
export type Cell = string | number | null | undefined;

export function fmt(value: Cell, digits = 1): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return 'n/a';
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value.toFixed(digits);
}

export const ms = (v: number) => fmt(v, Math.abs(v) < 10 ? 2 : 1);
export const x = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : 'n/a');
export const signedMs = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${ms(v)}` : 'n/a');

export function renderTable(headers: string[], rows: Cell[][]): string {
  const cells = rows.map((r) => r.map((c) => fmt(c)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || /^[+-]?[\d,.]+(×|%)?$/.test(String(r[i] ?? ''))));
  const width = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length), 3));
  const pad = (s: string, i: number) => (numeric[i] ? s.padStart(width[i]!) : s.padEnd(width[i]!));
  const line = (r: string[]) => `| ${r.map((s, i) => pad(s, i)).join(' | ')} |`;
  const rule = `|${width.map((w, i) => (numeric[i] ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|')}|`;
  return [line(headers), rule, ...cells.map(line)].join('\n');
}

export function printTable(title: string, headers: string[], rows: Cell[][], notes: string[] = []): void {
  process.stdout.write(`\n### ${title}\n\n${renderTable(headers, rows)}\n`);
  for (const n of notes) process.stdout.write(`\n${n}\n`);
}

export function section(title: string): void {
  process.stdout.write(`\n## ${title}\n`);
}
