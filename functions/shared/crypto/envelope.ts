import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptError, type KeyEncryptor } from './port.js';

/** Serialized envelope: version, KEK kind and version, wrapped DEK, and the AES-256-GCM sealed secret. */
export interface Envelope {
  v: 1;
  kek: 'kms' | 'local';
  kv: string;
  wdek: string;
  iv: string;
  ct: string;
  tag: string;
}

export function seal(key: Uint8Array, plaintext: Uint8Array, aad: string): { iv: string; ct: string; tag: string } {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv: iv.toString('base64'), ct: ct.toString('base64'), tag: cipher.getAuthTag().toString('base64') };
}

export function open(key: Uint8Array, sealed: { iv: string; ct: string; tag: string }, aad: string): Buffer {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]);
  } catch {
    throw new DecryptError('ciphertext or associated data does not authenticate');
  }
}

export function parseEnvelope(text: string): Envelope {
  let env: Envelope;
  try {
    env = JSON.parse(text) as Envelope;
  } catch {
    throw new DecryptError('not an envelope');
  }
  if (env?.v !== 1 || typeof env.wdek !== 'string' || typeof env.ct !== 'string') throw new DecryptError('not an envelope');
  return env;
}

export const newDek = () => randomBytes(32);

/** What distinguishes the adapters: how a DEK is wrapped and unwrapped by the key-encryption key. */
export interface KeyWrapper {
  kek: Envelope['kek'];
  wrap(dek: Buffer, aad: string): Promise<{ kv: string; wdek: string }>;
  /** Returns a buffer the caller zeroes; throws DecryptError when the wrapping does not authenticate. */
  unwrap(env: Envelope, aad: string): Promise<Buffer>;
}

/**
 * The envelope scheme both adapters share: a fresh DEK per secret seals it with AES-256-GCM bound to
 * `aad`, the wrapper wraps the DEK with the same `aad`, and every DEK is zeroed once used.
 */
export function envelopeEncryptor(wrapper: KeyWrapper): KeyEncryptor {
  const unwrapOwn = async (text: string, aad: string) => {
    const env = parseEnvelope(text);
    if (env.kek !== wrapper.kek) throw new DecryptError(`envelope was not made by the ${wrapper.kek} key-encryption key`);
    return { env, dek: await wrapper.unwrap(env, aad) };
  };
  return {
    kind: wrapper.kek,
    async encrypt(plaintext, aad) {
      const dek = newDek();
      try {
        const sealed = seal(dek, plaintext, aad);
        const env: Envelope = { v: 1, kek: wrapper.kek, ...(await wrapper.wrap(dek, aad)), ...sealed };
        return JSON.stringify(env);
      } finally {
        dek.fill(0);
      }
    },
    async decrypt(text, aad) {
      const { env, dek } = await unwrapOwn(text, aad);
      try {
        return open(dek, env, aad);
      } finally {
        dek.fill(0);
      }
    },
    async rewrap(text, aad) {
      const { env, dek } = await unwrapOwn(text, aad);
      try {
        // Proves the DEK still opens the secret before the old wrapping is replaced.
        open(dek, env, aad).fill(0);
        return JSON.stringify({ ...env, ...(await wrapper.wrap(dek, aad)) });
      } finally {
        dek.fill(0);
      }
    },
    keyVersionOf: (text) => parseEnvelope(text).kv,
  };
}
