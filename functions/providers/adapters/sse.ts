import type { SseEvent } from './types.js';

/**
 * Incremental Server-Sent Events parser (WHATWG rules that matter here: `event:` / `data:` fields,
 * multi-line data joined by \n, blank line ends an event, CRLF or LF line endings, comments ignored).
 */
export class SseParser {
  private buffer = '';
  private event: string | undefined;
  private data: string[] = [];
  private readonly decoder = new TextDecoder();

  push(bytes: Uint8Array): SseEvent[] {
    this.buffer += this.decoder.decode(bytes, { stream: true });
    return this.drain();
  }

  end(): SseEvent[] {
    this.buffer += this.decoder.decode();
    const out = this.drain();
    if (this.buffer.length) {
      this.line(this.buffer);
      this.buffer = '';
    }
    const last = this.dispatch();
    return last ? [...out, last] : out;
  }

  private drain(): SseEvent[] {
    const out: SseEvent[] = [];
    for (;;) {
      const at = this.buffer.search(/\r\n|\r|\n/);
      if (at < 0) break;
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
  }

  private dispatch(): SseEvent | undefined {
    const ev = this.data.length ? { event: this.event, data: this.data.join('\n') } : undefined;
    this.event = undefined;
    this.data = [];
    return ev;
  }
}
