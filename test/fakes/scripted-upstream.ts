import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A raw TCP upstream that answers the next request with exactly the bytes a test scripted, written
 * the way the test says: all at once, or one byte per TCP write (Nagle off, a turn of the event loop
 * between writes, headers included). After the body it ends normally, cuts the connection (RST), or
 * stalls with the connection open. Bodies are close-delimited (RFC 9112 §6.3 rule 8), so a clean
 * end is told from a cut only by the provider's own end marker; a "cut" is also a chunked body that
 * stops before its last chunk, which HTTP itself reports as incomplete.
 */
export interface Script {
  status?: number;
  headers?: Record<string, string>;
  body: string;
  /** one write, or one byte per write */
  writes?: 'one' | 'bytes';
  after?: 'end' | 'cut' | 'stall';
}

export interface ScriptedUpstream {
  baseUrl(root: string): string;
  next(script: Script): void;
  /** Requests received (method, path, parsed JSON body). */
  requests: { method: string; path: string; body: any }[];
  close(): Promise<void>;
}

const turn = () => new Promise<void>((r) => setImmediate(r));

export async function startScriptedUpstream(): Promise<ScriptedUpstream> {
  const scripts: Script[] = [];
  const requests: ScriptedUpstream['requests'] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    socket.on('data', async (d) => {
      buf = Buffer.concat([buf, d]);
      const head = buf.indexOf('\r\n\r\n');
      if (head < 0) return;
      const lines = buf.subarray(0, head).toString('latin1').split('\r\n');
      const length = Number(lines.find((l) => /^content-length:/i.test(l))?.split(':')[1] ?? 0);
      if (buf.length < head + 4 + length) return;
      socket.removeAllListeners('data');
      const [method, path] = lines[0]!.split(' ');
      const text = buf.subarray(head + 4, head + 4 + length).toString('utf8');
      requests.push({ method: method!, path: path!, body: text ? JSON.parse(text) : undefined });
      const s = scripts.shift() ?? { status: 500, body: '{"error":{"message":"no script","type":"server_error"}}' };
      await answer(socket, s);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: (root) => `http://127.0.0.1:${port}${root}`,
    next: (s) => void scripts.push(s),
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function answer(socket: Socket, s: Script): Promise<void> {
  const status = s.status ?? 200;
  const after = s.after ?? 'end';
  // A cut is a chunked body that stops before its last (zero-length) chunk: the reader gets every byte
  // sent, then a premature close — no timing involved (an RST could drop bytes not yet read).
  const chunked = after === 'cut';
  const headers = {
    'content-type': status === 200 ? 'text/event-stream' : 'application/json',
    connection: 'close',
    ...(chunked ? { 'transfer-encoding': 'chunked' } : {}),
    ...s.headers,
  };
  const head = Buffer.from(`HTTP/1.1 ${status} X\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`, 'latin1');
  const body = Buffer.from(s.body, 'utf8');
  const frame = (b: Buffer) => (chunked ? Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]) : b);
  socket.setNoDelay(true);
  if (s.writes === 'bytes') {
    for (const b of head) {
      socket.write(Uint8Array.of(b));
      await turn();
    }
    for (const b of body) {
      if (socket.destroyed) return;
      socket.write(frame(Buffer.of(b)));
      await turn();
    }
  } else socket.write(Buffer.concat([head, body.length ? frame(body) : Buffer.alloc(0)]));
  if (after === 'end' || after === 'cut') socket.end();
  // stall: keep the connection open and silent until the gateway gives up.
}
