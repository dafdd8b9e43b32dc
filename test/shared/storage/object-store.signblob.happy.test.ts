import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gcsObjectStore } from '../../../functions/shared/storage/gcs.js';
import { objectName } from '../../../functions/shared/storage/index.js';
import { startGcsFake, type GcsFake } from '../../fakes/gcs.js';

/**
 * On Cloud Run there is no key file: Application Default Credentials come from the metadata server,
 * and the client library signs URLs through IAM Credentials signBlob
 * (https://cloud.google.com/storage/docs/access-control/signing-urls-with-helpers, "signBlob"). This
 * file points the metadata lookups at the fake (GCE_METADATA_HOST; vitest runs each file in its own
 * process, so the variables stay here).
 */
let fake: GcsFake;
const saved = { ...process.env };
beforeAll(async () => {
  fake = await startGcsFake();
  process.env.GCE_METADATA_HOST = fake.metadataHost;
  process.env.METADATA_SERVER_DETECTION = 'assume-present';
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
});
afterAll(async () => {
  process.env = saved;
  await fake.close();
});

describe('Cloud Storage adapter on a service account without a key file', () => {
  it('signs through IAM signBlob with the metadata server token, and Cloud Storage accepts the URL', async () => {
    const { Storage } = await import('@google-cloud/storage');
    const storage = new Storage({ apiEndpoint: fake.url, projectId: 'lattice-test', retryOptions: { autoRetry: false } });
    const store = await gcsObjectStore({ bucket: fake.bucket, storage, signingEndpoint: fake.signingEndpoint });
    const name = objectName('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-00000000000a');
    const before = fake.calls.signBlob ?? 0;
    const grant = await store.signUpload(name, { contentType: 'text/plain', size: 2, ttlSeconds: 900 });
    expect(fake.calls.signBlob).toBe(before + 1);
    expect(new URL(grant.url).searchParams.get('X-Goog-Credential')).toMatch(/^lattice-projects-test@lattice-test\.iam\.gserviceaccount\.com\/\d{8}\/auto\/storage\/goog4_request$/);
    expect((await fetch(grant.url, { method: 'PUT', headers: grant.headers, body: 'ok' })).status).toBe(200);
    const download = await store.signDownload(name, { ttlSeconds: 300, contentType: 'text/plain', filename: 'ok.txt' });
    expect(await (await fetch(download.url)).text()).toBe('ok');
  });
});
