import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolTransport } from '../../functions/providers/service/transport.js';

/**
 * The upstream transport (transport.ts): keep-alive per origin, bounded origins, bodies read as
 * bytes, an abort that reaches a body already streaming, and no coding the adapters cannot read.
 */
interface Local {
  url: string;
  connections: () => number;
  encodings: (string | undefined)[];
  close(): Promise<void>;
}

async function local(): Promise<Local> {
  let connections = 0;
  const encodings: (string | undefined)[] = [];
  const server: Server = createServer((req, res) => {
    encodings.push(req.headers['accept-encoding']);
    if (req.url === '/stall') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      return; // never ends
    }
    res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json', 'retry-after': '7' });
    res.end(JSON.stringify({ path: req.url }));
  });
  server.on('connection', () => void connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    encodings,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('pooled upstream transport', () => {
  const servers: Local[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) servers.push(await local());
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('sequential calls to one origin reuse their connection; status, headers and JSON read as fetch would give them', async () => {
    const t = poolTransport();
    const [s] = servers;
    for (let i = 0; i < 4; i++) {
      const res = await t(`${s!.url}/v1/chat?i=${i}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(res.ok).toBe(true);
      expect(await res.json()).toEqual({ path: `/v1/chat?i=${i}` });
    }
    const missing = await t(`${s!.url}/missing`, { method: 'GET' });
    expect([missing.status, missing.ok, missing.headers.get('retry-after')]).toEqual([404, false, '7']);
    expect(JSON.parse(await missing.text())).toEqual({ path: '/missing' });
    // Keep-alive: five calls, not five connections (undici may open a second socket while the first is
    // still finishing its previous answer, then rotates between the two).
    expect(s!.connections()).toBeLessThanOrEqual(2);
    expect(s!.encodings.every((e) => e === 'identity')).toBe(true);
    await t.close();
  });

  it('holds at most maxOrigins pools, closing the least recently used', async () => {
    const t = poolTransport({ maxOrigins: 2 });
    for (const s of servers) await (await t(`${s.url}/x`, { method: 'GET' })).text();
    expect(t.origins()).toBe(2);
    await t.close();
    expect(t.origins()).toBe(0);
  });

  it('an abort after the headers fails the body read in progress, as a cut stream', async () => {
    const t = poolTransport();
    const controller = new AbortController();
    const res = await t(`${servers[2]!.url}/stall`, { method: 'GET', signal: controller.signal });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('data: first\n\n');
    const pending = reader.read();
    controller.abort(new Error('upstream timeout'));
    await expect(pending).rejects.toBeInstanceOf(Error);
    await t.close();
  });
});
