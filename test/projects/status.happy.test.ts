import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkBaselines, compare } from '../../functions/projects/service/baseline-check.js';
import { canonicalJson, configHash } from '../../functions/projects/service/canonical.js';
import { deriveProjectStatus } from '../../functions/projects/service/status.js';

describe('deriveProjectStatus', () => {
  // [schema, sheriff, gauntlet, unresolved errors, unresolved warnings] → status
  it.each([
    ['not_run', 'not_run', 'not_run', 0, 0, 'unknown'],
    ['passed', 'passed', 'passed', 0, 0, 'healthy'],
    ['passed', 'not_run', 'not_run', 0, 0, 'healthy'],
    ['passed', 'passed', 'failed', 0, 0, 'error'],
    ['failed', 'pending', 'passed', 0, 0, 'error'],
    ['pending', 'passed', 'passed', 0, 0, 'warning'],
    ['pending', 'not_run', 'not_run', 0, 0, 'warning'],
    ['passed', 'passed', 'passed', 1, 0, 'error'],
    ['passed', 'passed', 'passed', 0, 1, 'warning'],
    ['not_run', 'not_run', 'not_run', 1, 0, 'error'],
    ['not_run', 'not_run', 'not_run', 0, 2, 'warning'],
    ['pending', 'passed', 'passed', 1, 0, 'error'],
    ['failed', 'failed', 'failed', 0, 3, 'error'],
  ] as const)('%s/%s/%s with %i errors and %i warnings → %s', (schema, sheriff, gauntlet, unresolvedErrors, unresolvedWarnings, expected) => {
    expect(deriveProjectStatus({ schema, sheriff, gauntlet, unresolvedErrors, unresolvedWarnings })).toBe(expected);
  });
});

/** Rebuilds a JSON value with every object's keys in a random order. */
function shuffleKeys(value: unknown, rand: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, rand));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [entries[i], entries[j]] = [entries[j]!, entries[i]!];
  }
  const out: Record<string, unknown> = {};
  // defineProperty: a "__proto__" key must stay a key, not become the prototype.
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: shuffleKeys(v, rand), enumerable: true, writable: true, configurable: true });
  return out;
}

describe('config_hash', () => {
  it('does not depend on key order, at any depth (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.integer(), (config, seed) => {
        let s = seed;
        const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
        const shuffled = shuffleKeys(config, rand);
        expect(configHash(shuffled)).toBe(configHash(config));
        expect(JSON.parse(canonicalJson(shuffled))).toEqual(JSON.parse(canonicalJson(config)));
      }),
      { numRuns: 300 },
    );
  });

  it('changes when a value changes and is lower-case hex SHA-256', () => {
    expect(configHash({ a: 1, b: [1, 2] })).toMatch(/^[0-9a-f]{64}$/);
    expect(configHash({ a: 1, b: [1, 2] })).not.toBe(configHash({ a: 1, b: [2, 1] }));
    expect(canonicalJson({ b: { d: 1, c: 2 }, a: null })).toBe('{"a":null,"b":{"c":2,"d":1}}');
  });
});

describe('baseline comparison', () => {
  it.each([
    [0.9, '>', 0.8, true],
    [0.8, '>', 0.8, false],
    [0.8, '>=', 0.8, true],
    [0.7, '<', 0.8, true],
    [0.8, '<=', 0.8, true],
    [0.81, '<=', 0.8, false],
    [5, '=', 5, true],
    [5.0001, '=', 5, false],
  ] as const)('%d %s %d → %s', (value, op, threshold, expected) => {
    expect(compare(value, op, threshold)).toBe(expected);
  });

  it('fails a rule whose metric is missing', () => {
    const r = checkBaselines([{ metric: 'accuracy', operator: '>=', threshold: 0.9 }, { metric: 'latency', operator: '<', threshold: 100 }], { accuracy: 0.95 });
    expect(r.passed).toBe(false);
    expect(r.results).toEqual([
      { metric: 'accuracy', operator: '>=', threshold: 0.9, value: 0.95, passed: true },
      { metric: 'latency', operator: '<', threshold: 100, value: null, passed: false },
    ]);
  });
});
