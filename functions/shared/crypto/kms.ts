import { DekCache } from './dek-cache.js';
import { envelopeEncryptor, type Envelope } from './envelope.js';
import { DecryptError, type KeyEncryptor } from './port.js';

export interface KmsOptions {
  /** projects/…/locations/…/keyRings/…/cryptoKeys/… */
  keyName: string;
  /** Test hook: a preconfigured KeyManagementServiceClient (e.g. pointed at the local fake). */
  client?: unknown;
  /** Unwrapped DEKs kept per instance (dek-cache.ts); absent, or 0 for either bound: every unwrap asks KMS. */
  dekCache?: { ttlMs: number; max: number; now?: () => number };
}

/** The slice of KeyManagementServiceClient this adapter uses (keeps the SDK types out of the port). */
interface KmsClient {
  encrypt(req: { name: string; plaintext: Buffer; additionalAuthenticatedData: Buffer }): Promise<[{ name?: string | null; ciphertext?: Uint8Array | string | null }, ...unknown[]]>;
  decrypt(req: { name: string; ciphertext: Buffer; additionalAuthenticatedData: Buffer }): Promise<[{ plaintext?: Uint8Array | string | null }, ...unknown[]]>;
}

const toBuffer = (v: Uint8Array | string | null | undefined) =>
  v == null ? Buffer.alloc(0) : typeof v === 'string' ? Buffer.from(v, 'base64') : Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/**
 * KMS rejects a wrong AAD or a tampered ciphertext with INVALID_ARGUMENT (gRPC 3, HTTP 400 on the REST
 * fallback); anything else (unavailable, permission) is an outage, not a bad secret, and must surface as such.
 */
function isDecryptFailure(err: unknown): boolean {
  const code = (err as { code?: number | string } | undefined)?.code;
  return code === 3 || code === 400 || code === 'INVALID_ARGUMENT';
}

/**
 * Cloud KMS envelope adapter: a fresh 256-bit DEK per secret seals it with AES-256-GCM bound to `aad`;
 * the DEK is wrapped by KMS `encrypt` with the same `aad` as additionalAuthenticatedData, so neither the
 * wrapped DEK nor the sealed secret can be moved to another owner. KMS picks the primary key version on
 * encrypt and finds the version from the ciphertext on decrypt; `kv` records the version for reporting.
 * The client is imported on first use (≈0.15 s at cold start, paid only by functions that need it).
 */
export async function kmsKeyEncryptor(options: KmsOptions): Promise<KeyEncryptor> {
  let client = options.client as KmsClient | undefined;
  if (!client) {
    const { KeyManagementServiceClient } = await import('@google-cloud/kms');
    client = new KeyManagementServiceClient() as unknown as KmsClient;
  }
  const kms = client;
  const { keyName } = options;
  const cache = options.dekCache && options.dekCache.ttlMs > 0 && options.dekCache.max > 0 ? new DekCache(options.dekCache) : undefined;

  async function wrap(dek: Buffer, aad: string): Promise<{ kv: string; wdek: string }> {
    const [res] = await kms.encrypt({ name: keyName, plaintext: dek, additionalAuthenticatedData: Buffer.from(aad, 'utf8') });
    const wrapped = toBuffer(res.ciphertext);
    if (!wrapped.length) throw new Error('KMS encrypt returned no ciphertext');
    return { kv: res.name ?? keyName, wdek: wrapped.toString('base64') };
  }

  async function unwrap(env: Envelope, aad: string): Promise<Buffer> {
    // Keyed by the wrapped DEK AND the AAD, as KMS checks both: another owner's AAD never finds a hit.
    const cacheKey = `${aad}\n${env.wdek}`;
    const hit = cache?.get(cacheKey);
    if (hit) return hit;
    let res;
    try {
      [res] = await kms.decrypt({ name: keyName, ciphertext: Buffer.from(env.wdek, 'base64'), additionalAuthenticatedData: Buffer.from(aad, 'utf8') });
    } catch (err) {
      if (isDecryptFailure(err)) throw new DecryptError('KMS refused to unwrap the data key (ciphertext or associated data)');
      throw err;
    }
    const dek = toBuffer(res.plaintext);
    // The SDK's own buffer is the only copy we do not control; ours is zeroed by the caller.
    const copy = Buffer.from(dek);
    dek.fill(0);
    if (copy.length !== 32) throw new DecryptError('unwrapped data key has the wrong length');
    cache?.set(cacheKey, Buffer.from(copy));
    return copy;
  }

  return envelopeEncryptor({ kek: 'kms', wrap, unwrap });
}
