import { envelopeEncryptor, open, seal } from './envelope.js';
import { DecryptError, type KeyEncryptor } from './port.js';

/**
 * Dev/embedded KeyEncryptor: the same envelope as KMS, with DEKs wrapped by a local AES-256 master key.
 * LOCAL_KEYRING is "base64key" or "kid:base64key,kid2:base64key2" — the first wraps, all unwrap (rotation).
 */
export function localKeyEncryptor(keyring: string): KeyEncryptor {
  const keys = keyring.split(',').map((entry, i) => {
    const at = entry.indexOf(':');
    const [kid, b64] = at > 0 ? [entry.slice(0, at), entry.slice(at + 1)] : [`local-${i + 1}`, entry];
    const key = Buffer.from(b64.trim(), 'base64');
    if (key.length !== 32) throw new Error(`LOCAL_KEYRING key "${kid}" must be 32 bytes of base64`);
    return { kid, key };
  });
  const current = keys[0]!;
  const kekFor = (kv: string) => {
    const found = keys.find((k) => k.kid === kv);
    if (!found) throw new DecryptError(`unknown local key version ${kv}`);
    return found.key;
  };
  return envelopeEncryptor({
    kek: 'local',
    wrap: async (dek, aad) => ({ kv: current.kid, wdek: JSON.stringify(seal(current.key, dek, `dek|${aad}`)) }),
    async unwrap(env, aad) {
      let wrapped: { iv: string; ct: string; tag: string };
      try {
        wrapped = JSON.parse(env.wdek);
      } catch {
        throw new DecryptError('wrapped data key is corrupt'); // a damaged envelope is a decrypt failure, not a crash
      }
      return open(kekFor(env.kv), wrapped, `dek|${aad}`);
    },
  });
}
