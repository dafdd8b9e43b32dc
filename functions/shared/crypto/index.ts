import type { Config } from '../config.js';
import type { KeyEncryptor } from './port.js';

export type { KeyEncryptor } from './port.js';
export { DecryptError } from './port.js';

/** The configured KeyEncryptor; the KMS client is imported only when used (cold start). */
export async function openKeyEncryptor(cfg: Config): Promise<KeyEncryptor> {
  if (cfg.KEY_ENCRYPTOR === 'kms') {
    const { kmsKeyEncryptor } = await import('./kms.js');
    const dekCache = { ttlMs: cfg.KMS_DEK_CACHE_TTL_MS, max: cfg.KMS_DEK_CACHE_MAX };
    if (cfg.KMS_EMULATOR_HOST) {
      const { kmsEmulatorClient } = await import('./kms-emulator.js');
      return kmsKeyEncryptor({ keyName: cfg.KMS_KEY_NAME!, client: await kmsEmulatorClient(cfg.KMS_EMULATOR_HOST), dekCache });
    }
    return kmsKeyEncryptor({ keyName: cfg.KMS_KEY_NAME!, dekCache });
  }
  const { localKeyEncryptor } = await import('./local.js');
  return localKeyEncryptor(cfg.LOCAL_KEYRING!);
}
