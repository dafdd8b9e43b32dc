import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An upstream that answers each request with the next queued reply (a recorded provider answer from
 * test/fakes/fixtures) and records what the gateway sent, so a test asserts both directions of
 * a translation. SSE bodies are written in small pieces that cut through events, as TCP may deliver them.
 */
export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  json?: unknown;
  /** Raw text/event-stream body. */
  sse?: string;
}

export interface Recorded {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export interface ReplayUpstream {
  baseUrl: string;
  requests: Recorded[];
  reply(...r: Reply[]): void;
  last(): Recorded;
  close(): Promise<void>;
}

export async function startReplayUpstream(root: string, pieceBytes = 23): Promise<ReplayUpstream> {
  const queue: Reply[] = [];
  const requests: Recorded[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: text ? JSON.parse(text) : undefined });
    const r = queue.shift();
    if (!r) {
      res.writeHead(500, { 'content-type': 'application/json' });
      return res.end('{"error":{"message":"no reply queued"}}');
    }
    if (r.sse === undefined) {
      res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...r.headers });
      return res.end(JSON.stringify(r.json));
    }
    res.writeHead(r.status ?? 200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...r.headers });
    const bytes = Buffer.from(r.sse, 'utf8');
    for (let at = 0; at < bytes.length; at += pieceBytes) {
      res.write(bytes.subarray(at, at + pieceBytes));
      await new Promise((resolve) => setImmediate(resolve));
    }
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}${root}`,
    requests,
    reply: (...r) => void queue.push(...r),
    last: () => requests.at(-1)!,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Anthropic's SSE framing: `event: <type>` + `data: <json>` per event. */
export const anthropicSse = (events: Record<string, unknown>[]) => events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');
/** Gemini's `?alt=sse` framing: data lines separated by CRLF CRLF. */
export const geminiSse = (events: unknown[]) => events.map((e) => `data: ${JSON.stringify(e)}\r\n\r\n`).join('');
/** OpenAI's framing, ending with `data: [DONE]`. */
export const openAiSse = (events: unknown[]) => `${events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')}data: [DONE]\n\n`;
