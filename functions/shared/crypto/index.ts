import type { Config } from '../config.js';
import type { KeyEncryptor } from './port.js';

export type { KeyEncryptor } from './port.js';
export { DecryptError } from './port.js';

/** The configured KeyEncryptor; the KMS client is imported only when used (cold start). */
export async function openKeyEncryptor(cfg: Config): Promise<KeyEncryptor> {
  if (cfg.KEY_ENCRYPTOR === 'kms') {
    const { kmsKeyEncryptor } = await import('./kms.js');
    return kmsKeyEncryptor({ keyName: cfg.KMS_KEY_NAME! });
  }
  const { localKeyEncryptor } = await import('./local.js');
  return localKeyEncryptor(cfg.LOCAL_KEYRING!);
}
