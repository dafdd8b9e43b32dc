import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startKmsFake } from '../../test/fakes/kms.js';

/**
 * Cloud KMS for the gateway under benchmark: the test fake (test/fakes/kms.ts, the real REST API's
 * encrypt/decrypt) behind a loopback proxy that holds every call for `latencyMs` before forwarding it.
 * In production each BYOK call unwraps its data key with a KMS decrypt, a network round trip to
 * Google; with the local keyring the benchmark never paid it. Default 10 ms (BENCH_KMS_LATENCY_MS, `off` for the local keyring).
 */
export interface BenchKms {
  host: string;
  port: number;
  keyName: string;
  latencyMs: number;
  /** Requests served so far, by method (decrypt = one per data-key unwrap). */
  calls: Record<string, number>;
  close(): Promise<void>;
}

/** BENCH_KMS_LATENCY_MS (default 10); `off` means no KMS at all (the local keyring), answered as null. */
export function kmsLatencyMs(): number | null {
  const setting = process.env.BENCH_KMS_LATENCY_MS ?? '10';
  if (setting === 'off') return null;
  const ms = Number(setting);
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`BENCH_KMS_LATENCY_MS must be a number of ms or off, not ${setting}`);
  return ms;
}

/**
 * The delay is added by a proxy rather than by the fake's own latency option so that the same harness
 * also measures revisions whose fake has no such option (the before/after runs of BENCHMARKS.md).
 */
export async function startBenchKms(latencyMs = kmsLatencyMs() ?? 0): Promise<BenchKms> {
  const fake = await startKmsFake();
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      setTimeout(() => {
        const out = request(
          { host: fake.host, port: fake.port, path: req.url, method: req.method, headers: req.headers, agent },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          },
        );
        out.on('error', (err) => {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 502, message: String(err), status: 'UNAVAILABLE' } }));
        });
        out.end(Buffer.concat(parts));
      }, latencyMs);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    keyName: fake.keyName,
    latencyMs,
    calls: fake.calls,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
      await fake.close();
    },
  };
}
