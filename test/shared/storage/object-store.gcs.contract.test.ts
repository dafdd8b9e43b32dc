import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gcsObjectStore } from '../../../functions/shared/storage/gcs.js';
import { objectName } from '../../../functions/shared/storage/index.js';
import { describeObjectStore } from '../../support/contracts/object-store.contract.js';
import { startGcsFake, storageClientFor, type GcsFake } from '../../fakes/gcs.js';

let fake: GcsFake;
let storage: Awaited<ReturnType<typeof storageClientFor>>;
beforeAll(async () => {
  fake = await startGcsFake();
  storage = await storageClientFor(fake);
});
afterAll(async () => {
  await fake.close();
});

describeObjectStore('Cloud Storage (real @google-cloud/storage client, V4 signed URLs, local fake)', async () => ({
  store: await gcsObjectStore({ bucket: fake.bucket, storage }),
  advance: (s) => fake.advance(s),
}));

describe('Cloud Storage adapter specifics', () => {
  it('signs V4 URLs binding host, content type, exact size and no-overwrite, for 15 minutes at most', async () => {
    const store = await gcsObjectStore({ bucket: fake.bucket, storage });
    const grant = await store.signUpload(objectName('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002'), { contentType: 'application/pdf', size: 1234, ttlSeconds: 900 });
    const q = new URL(grant.url).searchParams;
    expect(q.get('X-Goog-Algorithm')).toBe('GOOG4-RSA-SHA256');
    expect(q.get('X-Goog-Expires')).toBe('900');
    expect(q.get('X-Goog-SignedHeaders')).toBe('content-type;host;x-goog-content-length-range;x-goog-if-generation-match');
    expect(grant.headers).toEqual({ 'content-type': 'application/pdf', 'x-goog-content-length-range': '1234,1234', 'x-goog-if-generation-match': '0' });
    expect(store.uriOf('orgs/x')).toBe(`gs://${fake.bucket}/orgs/x`);
  });

  it('reads through the JSON API and lets the client check the CRC32C Cloud Storage reports', async () => {
    const store = await gcsObjectStore({ bucket: fake.bucket, storage });
    const name = objectName('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000003');
    const grant = await store.signUpload(name, { contentType: 'text/plain', size: 4, ttlSeconds: 900 });
    expect((await fetch(grant.url, { method: 'PUT', headers: grant.headers, body: 'abcd' })).status).toBe(200);
    // Bytes corrupted at rest: the client's CRC32C check fails the stream instead of handing them over.
    const stored = fake.objects.get(name)!;
    fake.objects.set(name, { ...stored, data: Buffer.from('abcx') });
    const mismatch = (async () => {
      for await (const _ of store.read(name)) void _;
    })();
    await expect(mismatch).rejects.toThrow();
    fake.objects.set(name, stored);
    const chunks: Buffer[] = [];
    for await (const c of store.read(name)) chunks.push(Buffer.from(c));
    expect(Buffer.concat(chunks).toString()).toBe('abcd');
  });
});
