import { z } from '@hono/zod-openapi';
import { HttpProblem, type ProblemBody } from './problem.js';

/**
 * What every request input must be before any code touches it, whatever its schema says:
 * - text is well-formed Unicode without NUL: PostgreSQL text and jsonb cannot hold U+0000 (text
 *   refuses the byte, jsonb refuses the `\u0000` escape), jsonb refuses an unpaired `\ud800`
 *   escape, and the UTF-8 encoder silently turns an unpaired surrogate into U+FFFD, so such a value
 *   either fails in the database (500) or is stored as something else than was sent;
 * - JSON nests at most MAX_JSON_DEPTH levels: JSON.parse is iterative in V8, but JSON.stringify,
 *   canonicalisation, jsonb input and zod's recursive walks are not, and a body nested tens of
 *   thousands deep overflowed the stack.
 * The checks here never recurse, so they cannot overflow on what they guard against.
 */
export const MAX_JSON_DEPTH = 64;

/** NUL or an unpaired surrogate (with the `u` flag a surrogate pair is one code point, not Cs). */
const UNSAFE_TEXT = /[\u0000\p{Cs}]/u;

export const isSafeText = (s: string): boolean => !UNSAFE_TEXT.test(s);

export const UNSAFE_TEXT_MESSAGE = 'must not contain NUL characters or unpaired UTF-16 surrogates';

/** The shared text schema: a string that is well-formed Unicode without NUL (trimmed, bounded). */
export const text = (max: number, min = 1) => z.string().trim().min(min).max(max).refine(isSafeText, UNSAFE_TEXT_MESSAGE);

/** A calendar day `YYYY-MM-DD` that exists (no 2026-13-45, no 2023-02-29) in PostgreSQL's range (year ≥ 1). */
export const isoDay = () =>
  z.iso.date().refine((s) => Number(s.slice(0, 4)) >= 1, 'year must be 0001 or later').openapi({ format: 'date', example: '2026-12-03' });

/** An RFC 3339 date-time that exists, with an offset, in PostgreSQL's range (year ≥ 1). */
export const isoDateTime = () =>
  z.iso.datetime({ offset: true }).refine((s) => Number(s.slice(0, 4)) >= 1, 'year must be 0001 or later').openapi({ format: 'date-time' });

type Issue = NonNullable<ProblemBody['errors']>[number];

/**
 * Every string (values and object keys) of a parsed input that is not safe text, and whether it
 * nests deeper than `maxDepth`: one iterative walk with an explicit stack, bounded by the depth
 * limit itself. Stops at `maxIssues`.
 */
export function inputIssues(value: unknown, options: { maxDepth?: number; maxIssues?: number; prefix?: string } = {}): Issue[] {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  const maxIssues = options.maxIssues ?? 20;
  const issues: Issue[] = [];
  const pathOf = (path: (string | number)[]) => [options.prefix, ...path].filter((p) => p !== undefined && p !== '').join('.') || '(root)';
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length && issues.length < maxIssues) {
    const { value: v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (!isSafeText(v)) issues.push({ path: pathOf(path), message: UNSAFE_TEXT_MESSAGE });
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (path.length >= maxDepth) {
      issues.push({ path: pathOf(path.slice(0, 8)) + (path.length > 8 ? '…' : ''), message: `nests deeper than ${maxDepth} levels` });
      continue;
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: [...path, i] });
      continue;
    }
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
      if (!isSafeText(k)) issues.push({ path: pathOf([...path, k.replace(UNSAFE_TEXT, '?')]), message: `key ${UNSAFE_TEXT_MESSAGE}` });
      stack.push({ value: child, path: [...path, k] });
    }
  }
  return issues;
}

/** Throws the 422 for `inputIssues` (what the kernel's validation hook calls for every target). */
export function assertSafeInput(value: unknown, prefix?: string): void {
  const issues = inputIssues(value, { prefix });
  if (issues.length) throw new HttpProblem(422, 'validation-failed', 'the request does not match its schema', { errors: issues });
}

/**
 * Nesting depth of a JSON text, counted without parsing it (brackets outside strings), stopping as
 * soon as it passes `limit`: O(length), constant memory, no recursion. What is not JSON is left to
 * the parser to refuse.
 */
export function jsonDepthExceeds(raw: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

export const jsonTooDeep = (limit = MAX_JSON_DEPTH) =>
  new HttpProblem(422, 'json-too-deep', `the JSON body nests deeper than ${limit} levels`, { errors: [{ path: '(root)', message: `nests deeper than ${limit} levels` }] });
