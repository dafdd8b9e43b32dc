import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, configHash } from '../../functions/projects/service/canonical.js';

/** The recursive definition the iterative canonicaliser must equal (keys sorted by UTF-16 code units). */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
}

/** Same members, other insertion order, at every level. */
function shuffled(value: unknown, seed: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v, i) => shuffled(v, seed + i));
  const entries = Object.entries(value as Record<string, unknown>);
  const rotated = entries.map((_, i) => entries[(i + seed) % entries.length]!);
  return Object.fromEntries(rotated.map(([k, v]) => [k, shuffled(v, seed + 1)]));
}

describe('canonical JSON', () => {
  it('equals the recursive definition on any JSON value, and is valid JSON of the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const text = canonicalJson(value);
        expect(text).toBe(reference(value));
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 300 },
    );
  });

  it('hashes the same whatever the key order', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), fc.nat(50), (value, seed) => {
        expect(configHash(shuffled(value, seed))).toBe(configHash(value));
      }),
      { numRuns: 200 },
    );
  });

  it('does not overflow the stack on 100,000 levels (it keeps its own stack)', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = i % 2 ? { a: deep } : [deep];
    const text = canonicalJson(deep);
    expect(text.length).toBeGreaterThan(300_000);
    expect(text.startsWith('{"a":[{"a":[')).toBe(true);
  });
});
