import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inputIssues, isSafeText, jsonDepthExceeds, MAX_JSON_DEPTH } from '../../../functions/shared/http/input.js';
import { decodeCursor, encodeCursor, isStrictTimestamp } from '../../../functions/shared/http/pagination.js';

/** Nesting depth of a parsed value (recursive: the generators keep it shallow). */
const depthOf = (v: unknown): number =>
  v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v as object).map(depthOf)) : 0;

/** Strings full of what a bracket counter could trip on: brackets, quotes, backslashes, escapes. */
const tricky = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a', '\u2028', '😀') });
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, tricky, fc.integer(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 3 }),
  object: fc.dictionary(tricky, tie('value'), { maxKeys: 3 }),
})).value;

describe('JSON depth, counted on the text without parsing', () => {
  it('property: agrees with the depth of the parsed value, whatever the strings hold', () => {
    fc.assert(
      fc.property(json, fc.integer({ min: 0, max: 8 }), fc.boolean(), (value, limit, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        expect(jsonDepthExceeds(text, limit)).toBe(depthOf(value) > limit);
      }),
      { numRuns: 500 },
    );
  });

  it('stops early on a million levels, and what is not JSON is left to the parser', () => {
    expect(jsonDepthExceeds('['.repeat(1_000_000))).toBe(true);
    expect(jsonDepthExceeds(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`)).toBe(false);
    expect(jsonDepthExceeds('"unterminated [[[[')).toBe(false);
  });
});

describe('safe text and the walk over parsed inputs', () => {
  it('property: a string is safe exactly when it is well-formed UTF-16 without NUL', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('a', '\u0000', '\uD800', '\uDC00', '😀') }), (a, b) => {
        for (const s of [a, b]) expect(isSafeText(s)).toBe(!s.includes('\u0000') && Buffer.from(s, 'utf16le').toString('utf16le') === s && !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s));
      }),
      { numRuns: 500 },
    );
  });

  it('finds unsafe text in values and keys at any position, with its path, and refuses nesting past the limit', () => {
    expect(inputIssues({ a: [{ b: 'x\u0000' }] })).toEqual([{ path: 'a.0.b', message: expect.stringMatching(/NUL/) }]);
    expect(inputIssues({ ['k\uD800']: 1 })[0]!.message).toMatch(/^key /);
    expect(inputIssues({ ok: 'Clé 😀', n: 1, t: true, z: null })).toEqual([]);
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(inputIssues(deep)).toEqual([{ path: expect.stringMatching(/…$/), message: `nests deeper than ${MAX_JSON_DEPTH} levels` }]);
  });
});

describe('cursors and timestamps', () => {
  it('property: every cursor a list writes decodes to itself', () => {
    const iso = fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString());
    fc.assert(
      fc.property(iso, fc.uuid(), (t, id) => {
        expect(decodeCursor(encodeCursor([t, id]), ['timestamp', 'uuid'])).toEqual([t, id]);
      }),
    );
    expect(decodeCursor(encodeCursor(['2026-12-03 10:00:00.123456+00', '00000000-0000-4000-8000-000000000000']), ['timestamp', 'uuid'])).toBeDefined();
  });

  it.each(['2026-13-45T00:00:00Z', '2024-02-30T00:00:00Z', '2023-02-29 00:00:00+00', '2026-12-03T24:00:00Z', '0000-01-01T00:00:00Z', '2026-12-03T10:00:00+16:00', 'not a date'])(
    'refuses %s as a timestamp',
    (s) => {
      expect(isStrictTimestamp(s)).toBe(false);
      expect(() => decodeCursor(encodeCursor([s, '00000000-0000-4000-8000-000000000000']), ['timestamp', 'uuid'])).toThrow(expect.objectContaining({ status: 400 }));
    },
  );

  it('accepts leap days that exist', () => {
    expect(isStrictTimestamp('2024-02-29T00:00:00Z')).toBe(true);
    expect(isStrictTimestamp('2000-02-29 23:59:59.999999+00')).toBe(true);
    expect(isStrictTimestamp('1900-02-29T00:00:00Z')).toBe(false);
  });
});
