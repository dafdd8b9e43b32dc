import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The benchmark's OpenAI upstream: a fixed latency before the first byte, a fixed reply and fixed
 * usage, so that every path (direct, ours, Portkey) receives exactly the same work and the
 * difference in what the client sees is the gateway in between.
 */
export interface BenchUpstream {
  /** API root (…/v1), what a gateway appends /chat/completions to. */
  apiRoot: string;
  port: number;
  requests: number;
  close(): Promise<void>;
}

export interface UpstreamOptions {
  latencyMs: number;
  /** Content chunks in a streamed reply (one word each). */
  chunks?: number;
}

export const PROMPT_TOKENS = 12;

async function readBody(req: IncomingMessage): Promise<any> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8') || '{}');
  } catch {
    return {};
  }
}

export async function startBenchUpstream(options: UpstreamOptions): Promise<BenchUpstream> {
  const chunks = options.chunks ?? 16;
  let requests = 0;
  const reply = Array.from({ length: chunks }, (_, i) => (i ? ` w${i}` : 'w0'));
  const usage = { prompt_tokens: PROMPT_TOKENS, completion_tokens: chunks, total_tokens: PROMPT_TOKENS + chunks };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    requests++;
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model' }] }));
    }
    if (req.method !== 'POST' || !req.url?.startsWith('/v1/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
    }
    await new Promise((r) => setTimeout(r, options.latencyMs));
    const id = `chatcmpl-bench${requests}`;
    const created = Math.floor(Date.now() / 1000);
    const model = body.model ?? 'gpt-4o-mini';
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(
        JSON.stringify({
          id, object: 'chat.completion', created, model,
          choices: [{ index: 0, message: { role: 'assistant', content: reply.join('') }, finish_reason: 'stop' }],
          usage,
        }),
      );
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const frame = (choices: unknown[], extra: object = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...extra })}\n\n`;
    res.write(frame([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]));
    for (const word of reply) res.write(frame([{ index: 0, delta: { content: word }, finish_reason: null }]));
    res.write(frame([{ index: 0, delta: {}, finish_reason: 'stop' }]));
    if (body.stream_options?.include_usage) res.write(frame([], { usage }));
    res.end('data: [DONE]\n\n');
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiRoot: `http://127.0.0.1:${port}/v1`,
    port,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
