import { createHash } from 'node:crypto';
import type { Signer } from './port.js';

/** The slice of KeyManagementServiceClient used here. */
interface KmsSigningClient {
  asymmetricSign(req: { name: string; digest: { sha256: Buffer } }): Promise<[{ signature?: Uint8Array | string | null; name?: string | null }, ...unknown[]]>;
  getPublicKey(req: { name: string }): Promise<[{ pem?: string | null; algorithm?: string | null }, ...unknown[]]>;
}

export interface KmsSignerOptions {
  /** projects/…/cryptoKeys/…/cryptoKeyVersions/N of an EC_SIGN_P256_SHA256 key. */
  keyVersionName: string;
  /** Test hook: a client pointed at the local fake. */
  client?: unknown;
}

const toBuffer = (v: Uint8Array | string | null | undefined) =>
  v == null ? Buffer.alloc(0) : typeof v === 'string' ? Buffer.from(v, 'base64') : Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/**
 * Cloud KMS asymmetric signer: KMS signs a SHA-256 digest we compute, so the message never leaves the
 * instance; public keys are fetched once per version and cached. The client is imported on first use.
 */
export function kmsSigner(options: KmsSignerOptions): Signer {
  let client: Promise<KmsSigningClient> | undefined;
  const kms = () =>
    (client ??= options.client
      ? Promise.resolve(options.client as KmsSigningClient)
      : import('@google-cloud/kms').then(({ KeyManagementServiceClient }) => new KeyManagementServiceClient() as unknown as KmsSigningClient));
  const pems = new Map<string, Promise<string>>();

  return {
    kind: 'kms',
    keyId: async () => options.keyVersionName,
    async sign(message) {
      const digest = createHash('sha256').update(message).digest();
      const [res] = await (await kms()).asymmetricSign({ name: options.keyVersionName, digest: { sha256: digest } });
      const signature = toBuffer(res.signature);
      if (!signature.length) throw new Error('KMS asymmetricSign returned no signature');
      return { signature, keyId: res.name || options.keyVersionName };
    },
    publicKeyPem(keyId) {
      let pem = pems.get(keyId);
      if (!pem) {
        pem = kms()
          .then((c) => c.getPublicKey({ name: keyId }))
          .then(([res]) => {
            if (res.algorithm && res.algorithm !== 'EC_SIGN_P256_SHA256') throw new Error(`KMS key ${keyId} is ${res.algorithm}, expected EC_SIGN_P256_SHA256`);
            if (!res.pem) throw new Error(`KMS returned no public key for ${keyId}`);
            return res.pem;
          });
        pem.catch(() => pems.delete(keyId));
        pems.set(keyId, pem);
      }
      return pem;
    },
  };
}
