import { createHash } from 'node:crypto';

type Frame = { items: unknown[]; i: number; close: ']' } | { entries: [string, unknown][]; i: number; close: '}' };

/**
 * Canonical JSON: object keys sorted (by UTF-16 code units, recursively), no whitespace, arrays in
 * order. Two configs that differ only in key order hash the same, which is what the blacklist and
 * the quarantine rely on to recognise a configuration. Iterative (an explicit stack, not the call
 * stack), so no nesting depth can overflow it; the kernel bounds request nesting anyway.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  const stack: Frame[] = [];
  const emit = (v: unknown) => {
    if (v === null || typeof v !== 'object') {
      const s = JSON.stringify(v);
      // undefined, functions and symbols have no JSON form; JSON drops them inside objects too.
      out.push(s === undefined ? 'null' : s);
    } else if (Array.isArray(v)) {
      out.push('[');
      stack.push({ items: v, i: 0, close: ']' });
    } else {
      const entries = Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      out.push('{');
      stack.push({ entries, i: 0, close: '}' });
    }
  };
  emit(value);
  while (stack.length) {
    const frame = stack[stack.length - 1]!;
    const length = frame.close === ']' ? frame.items.length : frame.entries.length;
    if (frame.i >= length) {
      out.push(frame.close);
      stack.pop();
      continue;
    }
    if (frame.i > 0) out.push(',');
    if (frame.close === ']') emit(frame.items[frame.i++]);
    else {
      const [k, v] = frame.entries[frame.i++]!;
      out.push(`${JSON.stringify(k)}:`);
      emit(v);
    }
  }
  return out.join('');
}

/** SHA-256 (lower-case hex) of the canonical JSON of a config. */
export function configHash(config: unknown): string {
  return createHash('sha256').update(canonicalJson(config), 'utf8').digest('hex');
}
