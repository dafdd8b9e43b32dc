import { randomBytes } from 'node:crypto';
import { localKeyEncryptor } from '../../../functions/shared/crypto/local.js';
import { describeKeyEncryptor } from '../../support/contracts/key-encryptor.contract.js';

const k1 = `k1:${randomBytes(32).toString('base64')}`;
const k2 = `k2:${randomBytes(32).toString('base64')}`;

describeKeyEncryptor('local keyring', async () => ({
  encryptor: localKeyEncryptor(k1),
  // Rotation: the new key goes first (it wraps), the old one stays to unwrap.
  rotate: async () => localKeyEncryptor(`${k2},${k1}`),
}));
