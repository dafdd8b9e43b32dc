import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Shared machinery of the fake AI upstreams. What a request gets is decided by directives in its last
 * user message, so concurrent mixed runs stay deterministic whatever the order:
 *   [[fail:500]] / [[fail:429]]  answer that status (before the first byte)
 *   [[hang]]                     never answer (upstream timeout)
 *   [[slow:40]]                  stream one word every 40 ms
 *   [[words:30]]                 reply with 30 words
 * and `failNext(status, n)` makes the next n requests fail (retry tests).
 */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
}

export interface FakeUpstream {
  /** API root to store as the provider's base_url. */
  baseUrl: string;
  port: number;
  requests: RecordedRequest[];
  failNext(status: number, times?: number): void;
  close(): Promise<void>;
}

export interface Scripted {
  reply: string[];
  promptTokens: number;
  fail?: number;
  hang?: boolean;
  slowMs?: number;
}

/** Deterministic reply and token counts: one token per whitespace-separated word (+3 per message). */
export function script(texts: string[], lastUser: string): Scripted {
  const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
  const fail = lastUser.match(/\[\[fail:(\d{3})\]\]/);
  const slow = lastUser.match(/\[\[slow:(\d+)\]\]/);
  const count = lastUser.match(/\[\[words:(\d+)\]\]/);
  const clean = lastUser.replace(/\[\[[^\]]*\]\]/g, '').trim() || 'nothing';
  const n = count ? Number(count[1]) : 0;
  const reply = n ? Array.from({ length: n }, (_, i) => `w${i}`) : ['Echo:', ...clean.split(/\s+/)];
  return {
    reply: reply.map((w, i) => (i ? ` ${w}` : w)),
    promptTokens: texts.reduce((sum, t) => sum + words(t) + 3, 0),
    fail: fail ? Number(fail[1]) : undefined,
    hang: /\[\[hang\]\]/.test(lastUser),
    slowMs: slow ? Number(slow[1]) : undefined,
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function sse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.flushHeaders();
}

export async function startUpstream(
  rootPath: string,
  handle: (req: RecordedRequest, res: ServerResponse, control: { failed: () => number | undefined }) => Promise<void>,
): Promise<FakeUpstream> {
  const requests: RecordedRequest[] = [];
  const failures: number[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: any;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const recorded = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
    requests.push(recorded);
    try {
      await handle(recorded, res, { failed: () => failures.shift() });
    } catch {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}${rootPath}`,
    port,
    requests,
    failNext(status, times = 1) {
      for (let i = 0; i < times; i++) failures.push(status);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Writes a JSON body with a status. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export const textOf = (content: unknown): string =>
  typeof content === 'string' ? content : Array.isArray(content) ? content.map((p: any) => p?.text ?? '').join('') : '';
