import { Agent, request } from 'node:http';

/**
 * A minimal HTTP/1.1 client over node:http with keep-alive, the same for every path measured, so
 * the client's own cost cancels out of the ratios (fetch/undici adds more per-request work).
 */
// An idle pooled socket is dropped after 4 s, before a Node server's default 5 s keep-alive timeout
// closes it from its side: reusing a socket the server is closing fails the request with ECONNRESET.
export const agent = new Agent({ keepAlive: true, maxSockets: 256, keepAliveMsecs: 10_000, timeout: 4_000 });

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** ms from sending to the first body byte. */
  ttfbMs: number;
}

export function post(url: string, body: unknown, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<Reply> {
  return send('POST', url, body, headers, timeoutMs);
}

export function put(url: string, body: unknown, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<Reply> {
  return send('PUT', url, body, headers, timeoutMs);
}

function send(method: string, url: string, body: unknown, headers: Record<string, string>, timeoutMs: number): Promise<Reply> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let ttfbMs = Number.NaN;
    const req = request(
      url,
      { method, agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers }, timeout: timeoutMs },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          if (Number.isNaN(ttfbMs)) ttfbMs = performance.now() - t0;
          parts.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8'), ttfbMs }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(url, { method: 'GET', agent, headers }, (res) => {
      const parts: Buffer[] = [];
      let ttfbMs = Number.NaN;
      res.on('data', (c: Buffer) => {
        if (Number.isNaN(ttfbMs)) ttfbMs = performance.now() - t0;
        parts.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8'), ttfbMs }));
    });
    req.on('error', reject);
    req.end();
  });
}
