import { createVerify } from 'node:crypto';

/**
 * Signs audit seal heads: ECDSA P-256 over SHA-256 of the message, DER-encoded (what Cloud KMS
 * EC_SIGN_P256_SHA256 returns). `keyId` is stored beside each signature (the KMS key version name, or
 * `local:<fingerprint>`), and `publicKeyPem(keyId)` lets the verifier check old seals after rotation.
 */
export interface Signer {
  readonly kind: 'kms' | 'local';
  /** The key version that signs now. */
  keyId(): Promise<string>;
  sign(message: Buffer): Promise<{ signature: Buffer; keyId: string }>;
  publicKeyPem(keyId: string): Promise<string>;
}

/** Verifies an ECDSA P-256 / SHA-256 DER signature with a PEM public key (no network). */
export function verifySignature(publicKeyPem: string, message: Buffer, signature: Buffer): boolean {
  try {
    return createVerify('sha256').update(message).verify(publicKeyPem, signature);
  } catch {
    return false;
  }
}
