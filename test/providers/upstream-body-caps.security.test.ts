import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { errorMessage } from '../../functions/providers/service/upstream.js';
import { BodyTooLarge, MAX_JSON_BODY_BYTES, poolTransport, readJsonCapped } from '../../functions/providers/service/transport.js';

/**
 * A user's base URL can answer any size: error bodies are read only for their message (64 KiB at most),
 * success JSON up to MAX_JSON_BODY_BYTES, and the rest of the body is cancelled, never buffered.
 */
const MiB = 1024 * 1024;

/** A body of `chunks` MiB pulled on demand, counting what the reader took and whether it cancelled. */
function counting(chunks: number) {
  const seen = { pulled: 0, cancelled: false };
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent++ === chunks) return controller.close();
      seen.pulled += MiB;
      controller.enqueue(new Uint8Array(MiB).fill(0x20));
    },
    cancel() {
      seen.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { response: new Response(body, { status: 500 }), seen };
}

let server: Server | undefined;
afterAll(() => server?.close());

describe('upstream body caps', () => {
  it('an error body is read for its message only up to 64 KiB, then cancelled', async () => {
    const { response, seen } = counting(16);
    expect(await errorMessage(response)).toBeUndefined();
    expect(seen.pulled).toBeLessThanOrEqual(2 * MiB);
    expect(seen.cancelled).toBe(true);
  });

  it('a success JSON body past the cap is refused (the gateway answers 502), a smaller one parses', async () => {
    const size = MAX_JSON_BODY_BYTES + MiB;
    server = createServer((req, res) => {
      if (req.url === '/small') return void res.end('{"ok":true}');
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(size) });
      const chunk = Buffer.alloc(MiB, 0x20);
      let written = 0;
      const more = () => {
        while (written < size) {
          written += MiB;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('error', () => {});
      more();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const t = poolTransport();
    await expect(readJsonCapped(await t(`${url}/big`, {}))).rejects.toBeInstanceOf(BodyTooLarge);
    expect(await readJsonCapped(await t(`${url}/small`, {}))).toEqual({ ok: true });
    await t.close();
  });
});
