import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptError } from './port.js';

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
