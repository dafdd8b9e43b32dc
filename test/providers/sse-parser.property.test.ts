import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from '../../functions/providers/adapters/index.js';
import { RECORDED } from '../fakes/fixtures/recorded-streams.js';

/**
 * SseParser against the WHATWG event-stream rules (html.spec.whatwg.org/multipage/server-sent-events.html
 * #event-stream-interpretation): any of CRLF / LF / CR ends a line, a blank line dispatches, comments
 * and unknown fields are ignored, data lines join with \n, an event left open at the end is dropped.
 * TCP may split the bytes anywhere, so every property is checked over every split.
 */
const enc = new TextEncoder();

function parseChunks(chunks: Uint8Array[]): SseEvent[] {
  const p = new SseParser();
  const out: SseEvent[] = [];
  for (const c of chunks) out.push(...p.push(c));
  out.push(...p.end());
  return out;
}

function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.slice(at, p));
    at = p;
  }
  return out;
}

type Ending = '\n' | '\r\n' | '\r';
/** Field values never hold a line end; they may hold colons, leading spaces and any Unicode. */
const value = fc.string({ unit: fc.oneof(fc.constantFrom('a', 'Z', ':', ' ', '{', '"', 'é', '日', '🌍', '\r', '\n'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })) }).map((s) => s.replace(/[\r\n]/g, ''));
const eventArb = fc.record({
  event: fc.option(value.filter((v) => v.length > 0 && !v.startsWith(' ')), { nil: undefined }),
  data: fc.array(value, { minLength: 1, maxLength: 4 }),
  comment: fc.option(value, { nil: undefined }),
});
type Gen = { event?: string; data: string[]; comment?: string };

function serialize(events: Gen[], eol: Ending): string {
  return events
    .map((e) => (e.comment !== undefined ? `:${e.comment}${eol}` : '') + (e.event !== undefined ? `event: ${e.event}${eol}` : '') + e.data.map((d) => `data: ${d}${eol}`).join('') + eol)
    .join('');
}
const expected = (events: Gen[]): SseEvent[] => events.map((e) => ({ event: e.event, data: e.data.join('\n') }));

describe('SseParser', () => {
  it('a CR at the end of one read and the LF at the start of the next are ONE line end (issue 19 item 5)', () => {
    const events = parseChunks([enc.encode('data: a\r'), enc.encode('\ndata: b\r\n\r\n')]);
    expect(events).toEqual([{ event: undefined, data: 'a\nb' }]);
  });

  it('a lone CR is a line end too, also when it is the last byte read so far', () => {
    expect(parseChunks([enc.encode('data: x\r'), enc.encode('\r')])).toEqual([{ event: undefined, data: 'x' }]);
    expect(parseChunks([enc.encode('data: x\r\r')])).toEqual([{ event: undefined, data: 'x' }]);
  });

  it('an event without its closing blank line at the end of the stream is dropped (it was cut)', () => {
    expect(parseChunks([enc.encode('data: one\n\ndata: {"partial":')])).toEqual([{ event: undefined, data: 'one' }]);
    expect(parseChunks([enc.encode('data: one\n\ndata: two\n')])).toEqual([{ event: undefined, data: 'one' }]);
  });

  it('comments, unknown fields, id/retry and events without data dispatch nothing', () => {
    const wire = ': keep-alive\n\nid: 7\nretry: 100\n\nevent: ping\n\nfoo: bar\ndata\n\n';
    // A bare "data" line is a data field with an empty value (spec: field name = whole line).
    expect(parseChunks([enc.encode(wire)])).toEqual([{ event: undefined, data: '' }]);
  });

  it('keeps what follows the last event when it is not SSE (a raw error body), split anywhere', () => {
    const body = JSON.stringify({ error: { code: 500, message: 'An internal error has occurred.', status: 'INTERNAL' } }, null, 2);
    const bytes = enc.encode(`data: {"a":1}\r\n\r\n${body}\n`);
    for (let i = 1; i < bytes.length; i++) {
      const p = new SseParser();
      const events = [...p.push(bytes.slice(0, i)), ...p.push(bytes.slice(i)), ...p.end()];
      expect(events).toEqual([{ event: undefined, data: '{"a":1}' }]);
      expect(JSON.parse(p.stray())).toEqual(JSON.parse(body));
    }
  });

  for (const eol of ['\n', '\r\n', '\r'] as const) {
    const name = JSON.stringify(eol);
    it(`random events with ${name} line ends parse the same at random splits`, () => {
      fc.assert(
        fc.property(fc.array(eventArb, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 12 }), (events, cuts) => {
          const bytes = enc.encode(serialize(events, eol));
          expect(parseChunks(splitAt(bytes, cuts))).toEqual(expected(events));
        }),
        { numRuns: 300 },
      );
    });

    it(`random events with ${name} line ends parse the same one byte at a time`, () => {
      fc.assert(
        fc.property(fc.array(eventArb, { minLength: 1, maxLength: 4 }), (events) => {
          const bytes = enc.encode(serialize(events, eol));
          expect(parseChunks([...bytes].map((b) => Uint8Array.of(b)))).toEqual(expected(events));
        }),
        { numRuns: 100 },
      );
    });
  }

  describe.each(RECORDED)('the recorded $label stream', (r) => {
    // The provider's own line ends, and the same stream rewritten with each of the others.
    const variants: [string, string][] = [
      ['as recorded', r.wire],
      ['LF', r.wire.replace(/\r\n/g, '\n')],
      ['CRLF', r.wire.replace(/\r\n/g, '\n').replace(/\n/g, '\r\n')],
      ['CR', r.wire.replace(/\r\n/g, '\n').replace(/\n/g, '\r')],
    ];
    it.each(variants)('%s: every two-way split yields the same events', (_label, wire) => {
      const bytes = enc.encode(wire);
      const whole = parseChunks([bytes]);
      expect(whole.length).toBeGreaterThan(2);
      expect(whole.map((e) => e.data).every((d) => d === '[DONE]' || JSON.parse(d))).toBe(true);
      for (let i = 1; i < bytes.length; i++) expect(parseChunks([bytes.slice(0, i), bytes.slice(i)])).toEqual(whole);
      expect(parseChunks([...bytes].map((b) => Uint8Array.of(b)))).toEqual(whole);
    });
  });
});
