import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OpenAI-compatible upstream that holds every answer until `open()`. While it holds, no admitted
 * gateway call can settle, so the quota decisions of a concurrent burst are all taken against the
 * same reserved worst cases — the test can then state exactly how many must be admitted. It reports
 * the usage `usageOf(body)` returns, so billed usage can be made equal to the reserved worst case.
 */
export interface GatedUpstream {
  baseUrl: string;
  /** Requests that reached the upstream (= admitted by the gateway). */
  arrived(): number;
  open(): void;
  close(): Promise<void>;
}

export async function startGatedUpstream(usageOf: (body: any) => { prompt_tokens: number; completion_tokens: number }, onArrival: () => void): Promise<GatedUpstream> {
  let arrivals = 0;
  let isOpen = false;
  const held: (() => void)[] = [];
  const server = createServer(async (req, res) => {
    let text = '';
    for await (const c of req) text += c;
    const body = JSON.parse(text || '{}');
    arrivals++;
    const answer = () => respond(res, body, usageOf(body));
    if (isOpen) answer();
    else held.push(answer);
    onArrival();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    arrived: () => arrivals,
    open() {
      isOpen = true;
      for (const answer of held.splice(0)) answer();
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function respond(res: ServerResponse, body: any, u: { prompt_tokens: number; completion_tokens: number }) {
  const usage = { ...u, total_tokens: u.prompt_tokens + u.completion_tokens };
  const base = { id: 'chatcmpl-gated', created: Math.floor(Date.now() / 1000), model: body.model };
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const chunk = (choices: unknown[], extra: object = {}) => res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices, ...extra })}\n\n`);
  chunk([{ index: 0, delta: { role: 'assistant', content: 'ok' }, finish_reason: null }]);
  chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]);
  if (body.stream_options?.include_usage) chunk([], { usage });
  res.end('data: [DONE]\n\n');
}
