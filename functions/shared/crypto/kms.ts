import type { KeyEncryptor } from './port.js';

export interface KmsOptions {
  /** projects/…/locations/…/keyRings/…/cryptoKeys/… */
  keyName: string;
  /** Test hook: a preconfigured KeyManagementServiceClient (e.g. pointed at the local fake). */
  client?: unknown;
}

/** Cloud KMS envelope adapter — implemented by the providers work (issue 5). */
export async function kmsKeyEncryptor(_options: KmsOptions): Promise<KeyEncryptor> {
  throw new Error('KMS KeyEncryptor is not implemented yet');
}
