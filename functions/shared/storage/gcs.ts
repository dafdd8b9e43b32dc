import type { Readable } from 'node:stream';
import { attachment, type ObjectStore } from './port.js';

export interface GcsOptions {
  bucket: string;
  /** Test hook: a preconfigured @google-cloud/storage `Storage` (e.g. pointed at the local fake). */
  storage?: unknown;
  /**
   * IAM Credentials endpoint for signBlob (…/v1/projects/-/serviceAccounts/). Unset in production: the
   * client library uses Google's own when the credentials carry no private key.
   */
  signingEndpoint?: string;
  now?: () => Date;
}

/** The slice of @google-cloud/storage this adapter uses (keeps the SDK types out of the port). */
interface GcsFile {
  getSignedUrl(cfg: Record<string, unknown>): Promise<[string]>;
  getMetadata(): Promise<[{ size?: string | number; contentType?: string; generation?: string | number }]>;
  createReadStream(options?: Record<string, unknown>): Readable;
  delete(): Promise<unknown>;
}
interface GcsBucket {
  file(name: string, options?: { generation?: string | number }): GcsFile;
}
interface GcsClient {
  bucket(name: string): GcsBucket;
}

const notFound = (err: unknown) => (err as { code?: number } | undefined)?.code === 404;

/**
 * Cloud Storage adapter. Uploads and downloads go straight between the client and Cloud Storage through
 * V4 signed URLs (https://cloud.google.com/storage/docs/access-control/signed-urls); the function only
 * signs, reads back to verify, and deletes. On Cloud Run there is no key file: the client library signs
 * through the IAM Credentials signBlob method with the function's own service account
 * (https://cloud.google.com/storage/docs/authentication/creating-signatures), which needs
 * roles/iam.serviceAccountTokenCreator on itself (terraform grants it).
 * The client is imported on first use, like the other GCP clients (cold start).
 */
export async function gcsObjectStore(options: GcsOptions): Promise<ObjectStore> {
  let client = options.storage as GcsClient | undefined;
  if (!client) {
    const { Storage } = await import('@google-cloud/storage');
    client = new Storage() as unknown as GcsClient;
  }
  const bucket = client.bucket(options.bucket);
  const now = options.now ?? (() => new Date());
  const signing = options.signingEndpoint ? { signingEndpoint: options.signingEndpoint } : {};

  return {
    kind: 'gcs',
    uriOf: (name) => `gs://${options.bucket}/${name}`,

    async signUpload(name, { contentType, size, ttlSeconds }) {
      const expiresAt = new Date(now().getTime() + ttlSeconds * 1000);
      // Headers bound into the V4 signature (https://cloud.google.com/storage/docs/authentication/canonical-requests):
      // Cloud Storage refuses a PUT whose signed headers differ. x-goog-content-length-range makes it
      // refuse any other body size, and x-goog-if-generation-match: 0 any upload once the object exists
      // (https://cloud.google.com/storage/docs/xml-api/reference-headers).
      const headers = {
        'content-type': contentType,
        'x-goog-content-length-range': `${size},${size}`,
        'x-goog-if-generation-match': '0',
      };
      const [url] = await bucket.file(name).getSignedUrl({
        version: 'v4',
        action: 'write',
        expires: expiresAt,
        accessibleAt: now(),
        contentType,
        extensionHeaders: { 'x-goog-content-length-range': headers['x-goog-content-length-range'], 'x-goog-if-generation-match': '0' },
        ...signing,
      });
      return { url, method: 'PUT', headers, expiresAt };
    },

    async signDownload(name, { ttlSeconds, contentType, filename }) {
      const expiresAt = new Date(now().getTime() + ttlSeconds * 1000);
      const [url] = await bucket.file(name).getSignedUrl({
        version: 'v4',
        action: 'read',
        expires: expiresAt,
        accessibleAt: now(),
        responseType: contentType,
        responseDisposition: attachment(filename),
        ...signing,
      });
      return { url, expiresAt };
    },

    async stat(name) {
      try {
        const [meta] = await bucket.file(name).getMetadata();
        return { size: Number(meta.size ?? 0), contentType: meta.contentType ?? undefined, generation: String(meta.generation ?? '') };
      } catch (err) {
        if (notFound(err)) return undefined;
        throw err;
      }
    },

    read(name, generation) {
      // The client checks Cloud Storage's CRC32C of the bytes it streams (x-goog-hash); our SHA-256 runs beside it.
      return bucket.file(name, generation ? { generation } : undefined).createReadStream({ validation: 'crc32c' });
    },

    async delete(name) {
      try {
        await bucket.file(name).delete();
        return true;
      } catch (err) {
        if (notFound(err)) return false;
        throw err;
      }
    },
  };
}
