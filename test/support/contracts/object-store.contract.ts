import { createHash, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { objectName, type ObjectStore } from '../../../functions/shared/storage/index.js';

export interface ObjectStoreHarness {
  store: ObjectStore;
  /** Moves the clock the signed links are checked against. */
  advance(seconds: number): void;
}

const ORG = '00000000-0000-4000-8000-000000000001';
const fresh = () => objectName(ORG, randomUUID());
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function readAll(store: ObjectStore, name: string, generation?: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of store.read(name, generation)) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** A body sent in pieces of the given sizes (chunked transfer: no Content-Length), as a streaming client would. */
function split(bytes: Uint8Array, cuts: number[]): ReadableStream<Uint8Array> {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    pieces.push(bytes.subarray(at, p));
    at = p;
  }
  return new ReadableStream({
    pull(controller) {
      const next = pieces.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
  });
}

async function put(url: string, headers: Record<string, string>, body: Uint8Array | ReadableStream<Uint8Array>) {
  const res = await fetch(url, { method: 'PUT', headers, body, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit);
  await res.arrayBuffer();
  return res.status;
}

/** The ObjectStore contract: the Cloud Storage adapter (against the fake) and the filesystem adapter pass all of it. */
export function describeObjectStore(name: string, make: () => Promise<ObjectStoreHarness>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    it('takes exactly the promised bytes through the signed upload link, then reads them back as a stream and serves a download link', async () => {
      const { store } = await make();
      const key = fresh();
      const content = Buffer.from('{"findings":[]}\n');
      const grant = await store.signUpload(key, { contentType: 'application/json', size: content.length, ttlSeconds: 900 });
      expect(grant.method).toBe('PUT');
      expect(grant.headers['content-type']).toBe('application/json');
      expect(await put(grant.url, grant.headers, content)).toBe(200);

      const info = await store.stat(key);
      expect(info).toMatchObject({ size: content.length, contentType: 'application/json' });
      expect(info!.generation).not.toBe('');
      expect(await readAll(store, key, info!.generation)).toEqual(content);

      const download = await store.signDownload(key, { ttlSeconds: 300, contentType: 'application/json', filename: 'rapport d’analyse.json' });
      const res = await fetch(download.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('content-disposition')).toContain(`filename*=UTF-8''rapport%20d%E2%80%99analyse.json`);
      expect(Buffer.from(await res.arrayBuffer())).toEqual(content);
    });

    it('round-trips any bytes, however the upload is split across writes (property)', async () => {
      const { store } = await make();
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 96 * 1024 }), fc.array(fc.nat(), { maxLength: 6 }), async (bytes, cuts) => {
          const key = fresh();
          const grant = await store.signUpload(key, { contentType: 'application/octet-stream', size: bytes.length, ttlSeconds: 900 });
          expect(await put(grant.url, grant.headers, split(bytes, cuts))).toBe(200);
          const info = await store.stat(key);
          expect(info?.size).toBe(bytes.length);
          expect(sha(await readAll(store, key))).toBe(sha(bytes));
          await store.delete(key);
        }),
        { numRuns: 15 },
      );
    });

    it.each([
      ['more bytes than signed', 1],
      ['fewer bytes than signed', -1],
    ])('refuses an upload of %s and stores nothing', async (_what, delta) => {
      const { store } = await make();
      const key = fresh();
      const grant = await store.signUpload(key, { contentType: 'text/plain', size: 10, ttlSeconds: 900 });
      const body = Buffer.alloc(10 + delta, 0x61);
      const status = await put(grant.url, grant.headers, split(body, [3]));
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
      expect(await store.stat(key)).toBeUndefined();
    });

    it('refuses another content type, another object name or a tampered signature (the link binds them)', async () => {
      const { store } = await make();
      const key = fresh();
      const content = Buffer.from('hello');
      const grant = await store.signUpload(key, { contentType: 'text/plain', size: content.length, ttlSeconds: 900 });
      expect(await put(grant.url, { ...grant.headers, 'content-type': 'text/html' }, content)).toBe(403);
      const other = fresh();
      expect(await put(grant.url.replace(key, other), grant.headers, content)).toBe(403);
      const tampered = new URL(grant.url);
      for (const [k, v] of tampered.searchParams) if (k === 'sig' || k === 'X-Goog-Signature') tampered.searchParams.set(k, v.replace(/^./, (c) => (c === '0' ? '1' : '0')));
      expect(await put(tampered.toString(), grant.headers, content)).toBe(403);
      expect(await store.stat(key)).toBeUndefined();
      expect(await store.stat(other)).toBeUndefined();
    });

    it('refuses a link used after it expired', async () => {
      const harness = await make();
      const key = fresh();
      const content = Buffer.from('late');
      const grant = await harness.store.signUpload(key, { contentType: 'text/plain', size: content.length, ttlSeconds: 60 });
      expect(grant.expiresAt).toBeInstanceOf(Date);
      harness.advance(61);
      expect(await put(grant.url, grant.headers, content)).toBe(400);
      expect(await harness.store.stat(key)).toBeUndefined();
    });

    it('never replaces an existing object: a second upload through a valid link answers 412', async () => {
      const { store } = await make();
      const key = fresh();
      const grant = await store.signUpload(key, { contentType: 'text/plain', size: 5, ttlSeconds: 900 });
      expect(await put(grant.url, grant.headers, Buffer.from('first'))).toBe(200);
      const again = await store.signUpload(key, { contentType: 'text/plain', size: 5, ttlSeconds: 900 });
      expect(await put(again.url, again.headers, Buffer.from('other'))).toBe(412);
      expect((await readAll(store, key)).toString()).toBe('first');
    });

    it('deletes idempotently; a read pinned to a generation never sees a later object of the same name', async () => {
      const { store } = await make();
      const key = fresh();
      let grant = await store.signUpload(key, { contentType: 'text/plain', size: 3, ttlSeconds: 900 });
      expect(await put(grant.url, grant.headers, Buffer.from('one'))).toBe(200);
      const first = (await store.stat(key))!.generation;
      expect(await store.delete(key)).toBe(true);
      expect(await store.delete(key)).toBe(false);
      expect(await store.stat(key)).toBeUndefined();
      await expect(readAll(store, key)).rejects.toThrow();
      grant = await store.signUpload(key, { contentType: 'text/plain', size: 3, ttlSeconds: 900 });
      expect(await put(grant.url, grant.headers, Buffer.from('two'))).toBe(200);
      await expect(readAll(store, key, first)).rejects.toThrow();
      expect((await readAll(store, key, (await store.stat(key))!.generation)).toString()).toBe('two');
    });

    it('builds object names only from uuids', () => {
      expect(() => objectName(ORG, '../../etc/passwd')).toThrow();
      expect(() => objectName('x', randomUUID())).toThrow();
      expect(fresh()).toMatch(/^orgs\/[0-9a-f-]{36}\/artifacts\/[0-9a-f-]{36}$/);
    });
  });
}
