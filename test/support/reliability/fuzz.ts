import fc from 'fast-check';
import { exampleOf, type OpenApiDoc, type Schema, deref } from './openapi.js';

/** JSON nested `depth` levels deep, alternating arrays and objects. */
export function deepNesting(depth: number): string {
  let s = '1';
  for (let i = 0; i < depth; i++) s = i % 2 ? `{"a":${s}}` : `[${s}]`;
  return s;
}

const HUGE = 'x'.repeat(200_000);

/** Values that break naive code: wrong types, edge numbers, hostile and odd text, nesting. */
export const weird: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.constantFrom(-1, 0, -0.5, 1e308, -1e308, 2 ** 53 + 1, 2 ** 63, 0.1),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    HUGE,
    '\u0000',
    'nul\u0000inside',
    '\uD800',
    '\u202Egnp.exe',
    '𝕳𝖊𝖑𝖑𝖔 😀 مرحبا שלום 你好',
    "' OR '1'='1",
    "'); DROP TABLE projects.projects; --",
    '<script>alert(1)</script>',
    '${jndi:ldap://x}',
    '../../../../etc/passwd',
    '%00%0d%0a',
    '   ',
    '',
    'http://169.254.169.254/latest/meta-data/',
    'https://127.0.0.1:1/v1',
  ),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
  fc.constant(JSON.parse(deepNesting(60))),
);

/**
 * Bodies for an operation: its schema's example with some members replaced by weird values or
 * dropped, extra unknown members, or something else entirely (random JSON, a bare scalar).
 */
export function bodies(doc: OpenApiDoc, schema: Schema | undefined): fc.Arbitrary<unknown> {
  const s = deref(doc, schema);
  const fields = Object.keys(s.properties ?? {});
  const base = () => exampleOf(doc, s) as Record<string, unknown>;
  const mutated = fc
    .tuple(fields.length ? fc.subarray(fields, { minLength: 1 }) : fc.constant([] as string[]), fc.array(weird, { minLength: fields.length || 1, maxLength: Math.max(fields.length, 1) }), fc.boolean())
    .map(([chosen, values, drop]) => {
      const body = base();
      if (!body || typeof body !== 'object' || Array.isArray(body)) return values[0];
      chosen.forEach((f, i) => {
        if (drop && i === 0) delete body[f];
        else body[f] = values[i % values.length];
      });
      return body;
    });
  const extra = fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), weird).map(([k, v]) => ({ ...(base() as object), [k]: v }));
  return fc.oneof({ weight: 5, arbitrary: mutated }, { weight: 1, arbitrary: extra }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) }, { weight: 1, arbitrary: weird });
}

/** Path parameter values: not ids, hostile text, long, unicode, traversal. */
export const pathValues = [
  'not-a-uuid',
  '00000000-0000-0000-0000-000000000000',
  "1' OR '1'='1",
  '../../../../etc/passwd',
  '9'.repeat(3000),
  '😀',
  'null',
  '-1',
  '%00',
  'ffffffff-ffff-ffff-ffff-ffffffffffffX',
];

/** Query strings for list and report routes. */
export const queryValues = [
  'limit=-1',
  'limit=0',
  'limit=abc',
  'limit=1000000000',
  'limit=1e3',
  'cursor=garbage',
  `cursor=${Buffer.from('{"id":"x\' OR 1=1 --","t":"not a date"}').toString('base64url')}`,
  `cursor=${Buffer.from('[[[[[[[[[[[]]]]]]]]]]]').toString('base64url')}`,
  `cursor=${'A'.repeat(5000)}`,
  'from=not-a-date&to=2024-13-45',
  'from=2030-01-01&to=1999-01-01',
  'group_by=__proto__',
  'sort=;drop table x',
  'include_deleted=maybe',
  'limit=10&limit=20',
  '%E0%A4%A=1',
];

/** Text the database cannot hold or would silently change: NUL, unpaired surrogates, both, in keys too. */
export const hostileText = ['nul\u0000inside', '\u0000', 'high\uD800alone', 'low\uDC00alone', '\uDBFF', 'x\uDC00\uD800y', 'a\u0000\uD800'];

const cursorOf = (values: unknown) => Buffer.from(JSON.stringify(values)).toString('base64url');
const NIL = '00000000-0000-0000-0000-000000000000';

/**
 * Cursors a list never made, every one well-formed base64url JSON of a plausible arity: non-dates,
 * impossible dates, non-uuids, SQL, NUL, lone surrogates, numbers where text goes, nesting.
 */
export const hostileCursors = [
  cursorOf(['not a date', NIL]),
  cursorOf(['2026-13-45T00:00:00.000Z', NIL]),
  cursorOf(['2024-02-30 10:00:00.123456+00', NIL]),
  cursorOf(['0000-01-01T00:00:00Z', NIL]),
  cursorOf(['2026-12-03T10:00:00.000Z', "x' OR 1=1 --"]),
  cursorOf(['2026-12-03T10:00:00.000Z', `${NIL}\u0000`]),
  cursorOf(['name\u0000', NIL]),
  cursorOf(['\uD800', NIL]),
  cursorOf([1e308, -1]),
  cursorOf([null, null]),
  cursorOf([[['deep']], { a: 1 }]),
  cursorOf(['2026-12-03T10:00:00.000Z']),
  cursorOf(['2026-12-03T10:00:00.000Z', NIL, 'extra']),
  cursorOf({ t: '2026-12-03T10:00:00.000Z', id: NIL }),
  Buffer.from('["2026-12-03T10:00:00.000Z", "\\ud800"]').toString('base64url'),
];

/** Calendar values that do not exist or that PostgreSQL refuses, for date and date-time members. */
export const impossibleDays = ['2026-13-45', '2024-02-30', '2023-02-29', '2026-00-10', '0000-01-01', '99999-01-01', '2026-1-1'];
export const impossibleDateTimes = ['2026-13-45T00:00:00Z', '2024-02-30T10:00:00Z', '2026-12-03T24:00:01Z', '2026-12-03T10:61:00Z', '0000-01-01T00:00:00Z', '2026-12-03T10:00:00+25:00', 'yesterday'];
