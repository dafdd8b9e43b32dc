import type { Config } from '../../config.js';
import { kmsSigner } from './kms.js';
import { localSigner } from './local.js';
import type { Signer } from './port.js';

export type { Signer } from './port.js';
export { verifySignature } from './port.js';
export { kmsSigner, localSigner };

/** KMS_SIGNING_KEY_VERSION set → Cloud KMS; otherwise the local keyring (refused in production). */
export function openSigner(cfg: Config, options: { kmsClient?: unknown } = {}): Signer {
  if (cfg.KMS_SIGNING_KEY_VERSION) return kmsSigner({ keyVersionName: cfg.KMS_SIGNING_KEY_VERSION, client: options.kmsClient });
  if (cfg.NODE_ENV === 'production') throw new Error('KMS_SIGNING_KEY_VERSION: required in production to sign audit seals (the local signer is refused)');
  if (!cfg.LOCAL_KEYRING) throw new Error('LOCAL_KEYRING: required for the local audit signer');
  return localSigner(cfg.LOCAL_KEYRING);
}
