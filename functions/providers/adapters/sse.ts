import type { SseEvent } from './types.js';

/**
 * Incremental Server-Sent Events parser, after the WHATWG "event stream interpretation" rules
 * (html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation): lines end
 * with CRLF, LF or a lone CR; `event:` / `data:` fields, one optional space after the colon; multi-line
 * data joined by \n; a blank line dispatches; comments (`:`) and other fields ignored; an event
 * without data is not dispatched. Bytes may be split anywhere, including inside a UTF-8 sequence and
 * between the CR and LF of one line end.
 */
export class SseParser {
  private buffer = '';
  private event: string | undefined;
  private data: string[] = [];
  /** Lines that are not SSE fields since the last event (bounded): a provider's raw error body lands here. */
  private strays: string[] = [];
  private strayBytes = 0;
  private readonly decoder = new TextDecoder();

  /**
   * What came after the last event that was not SSE: Gemini has been seen printing a google.rpc.Status raw
   * after its events (js-genai#461). A conforming parser ignores it; the gateway reads it to report the
   * provider's error instead of a bare cut.
   */
  stray(): string {
    return this.strays.join('\n');
  }

  push(bytes: Uint8Array): SseEvent[] {
    this.buffer += this.decoder.decode(bytes, { stream: true });
    return this.drain();
  }

  /** The stream ended: an event not closed by a blank line is discarded, as the spec says (a cut). */
  end(): SseEvent[] {
    this.buffer += this.decoder.decode();
    const out = this.drain(true);
    this.buffer = '';
    this.event = undefined;
    this.data = [];
    return out;
  }

  private drain(final = false): SseEvent[] {
    const out: SseEvent[] = [];
    for (;;) {
      const at = this.buffer.search(/\r\n|\r|\n/);
      if (at < 0) break;
      // A CR that ends the data read so far may be the first half of a CRLF: wait for the next byte.
      if (!final && at === this.buffer.length - 1 && this.buffer[at] === '\r') break;
      const sep = this.buffer.startsWith('\r\n', at) ? 2 : 1;
      const line = this.buffer.slice(0, at);
      this.buffer = this.buffer.slice(at + sep);
      if (line === '') {
        const ev = this.dispatch();
        if (ev) out.push(ev);
      } else this.line(line);
    }
    return out;
  }

  private line(line: string): void {
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field !== 'id' && field !== 'retry' && this.strayBytes + line.length <= 16_384) {
      this.strays.push(line);
      this.strayBytes += line.length;
    }
  }

  private dispatch(): SseEvent | undefined {
    const ev = this.data.length ? { event: this.event, data: this.data.join('\n') } : undefined;
    this.event = undefined;
    this.data = [];
    if (ev) {
      this.strays = [];
      this.strayBytes = 0;
    }
    return ev;
  }
}
