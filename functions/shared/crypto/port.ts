/**
 * KeyEncryptor: envelope encryption of small secrets (provider API keys, TOTP secrets).
 * Each secret gets a fresh 256-bit data key (DEK); the secret is sealed with AES-256-GCM under the
 * DEK, and the DEK is wrapped by a key-encryption key (Cloud KMS in production, a local keyring in
 * dev). `aad` binds the ciphertext to its owner (e.g. "user:<id>|provider:<p>|key:<id>"): the
 * same AAD is required to decrypt, so a ciphertext copied to another row is useless.
 */
export interface KeyEncryptor {
  readonly kind: 'kms' | 'local';
  encrypt(plaintext: Uint8Array, aad: string): Promise<string>;
  /** Returns a fresh buffer; callers zero it (`buf.fill(0)`) once used. */
  decrypt(envelope: string, aad: string): Promise<Buffer>;
  /** Re-wraps the DEK under the current key version without touching the sealed secret. */
  rewrap(envelope: string, aad: string): Promise<string>;
  /** Which key version wrapped this envelope (for rotation reporting). */
  keyVersionOf(envelope: string): string;
}

export class DecryptError extends Error {
  override name = 'DecryptError';
}
