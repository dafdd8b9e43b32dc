import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kmsKeyEncryptor } from '../../../functions/shared/crypto/kms.js';
import { describeKeyEncryptor } from '../../support/contracts/key-encryptor.contract.js';
import { kmsClientFor, startKmsFake, type KmsFake } from '../../fakes/kms.js';

let fake: KmsFake;
let client: Awaited<ReturnType<typeof kmsClientFor>>;
beforeAll(async () => {
  fake = await startKmsFake();
  client = await kmsClientFor(fake);
});
afterAll(async () => {
  await client.close();
  await fake.close();
});

describeKeyEncryptor('Cloud KMS envelope (real @google-cloud/kms client, REST fallback, local fake)', async () => {
  const encryptor = await kmsKeyEncryptor({ keyName: fake.keyName, client });
  return {
    encryptor,
    rotate: async () => {
      fake.rotate();
      return encryptor;
    },
  };
});

describe('Cloud KMS adapter specifics', () => {
  it('wraps the DEK through KMS with the same AAD, and an unknown key is an outage, not a bad secret', async () => {
    const encryptor = await kmsKeyEncryptor({ keyName: fake.keyName, client });
    const before = fake.calls.encrypt ?? 0;
    const env = await encryptor.encrypt(Buffer.from('secret'), 'aad-1');
    expect(fake.calls.encrypt).toBe(before + 1);
    expect(encryptor.keyVersionOf(env)).toMatch(new RegExp(`^${fake.keyName}/cryptoKeyVersions/\\d+$`));
    const wrong = await kmsKeyEncryptor({ keyName: `${fake.keyName}-missing`, client });
    const err = await wrong.decrypt(env, 'aad-1').catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).not.toBe('DecryptError');
  });
});
