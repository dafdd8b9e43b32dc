import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DekCache } from '../../../functions/shared/crypto/dek-cache.js';
import { kmsKeyEncryptor } from '../../../functions/shared/crypto/kms.js';
import { describeKeyEncryptor } from '../../support/contracts/key-encryptor.contract.js';
import { kmsClientFor, startKmsFake, type KmsFake } from '../../fakes/kms.js';

/**
 * The unwrapped-DEK cache (SECURITY.md "Provider keys in memory"): bounded in time and count, every
 * DEK zeroed when it leaves, keyed by the AAD as well as the wrapped key so it never answers where
 * KMS would refuse. The clock is injected: nothing here waits.
 */
const zeroed = (b: Buffer) => b.every((x) => x === 0);

describe('DekCache', () => {
  it('hands out copies, and zeroes what it evicts by count, oldest first', () => {
    const cache = new DekCache({ ttlMs: 60_000, max: 2 });
    const [a, b, c] = [1, 2, 3].map((n) => Buffer.alloc(32, n));
    cache.set('a', a!);
    cache.set('b', b!);
    const copy = cache.get('a')!;
    copy.fill(0);
    expect(cache.get('a')!.every((x) => x === 1)).toBe(true);
    cache.set('c', c!);
    expect(cache.size).toBe(2);
    expect(zeroed(a!)).toBe(true);
    expect(cache.get('a')).toBeUndefined();
    expect(zeroed(b!)).toBe(false);
    cache.clear();
    expect(zeroed(b!) && zeroed(c!)).toBe(true);
    expect(cache.size).toBe(0);
  });

  it('an entry lives ttl from when it was stored: a hit does not extend it, and expiry zeroes it', () => {
    let now = 0;
    const cache = new DekCache({ ttlMs: 1_000, max: 10, now: () => now });
    const a = Buffer.alloc(32, 7);
    const b = Buffer.alloc(32, 8);
    cache.set('a', a);
    now = 600;
    cache.set('b', b);
    expect(cache.get('a')).toBeDefined();
    now = 1_000;
    expect(cache.get('a')).toBeUndefined();
    expect(zeroed(a)).toBe(true);
    now = 1_700;
    cache.sweep();
    expect(zeroed(b)).toBe(true);
    expect(cache.size).toBe(0);
  });

  it('storing the same id again replaces (and zeroes) the previous key', () => {
    const cache = new DekCache({ ttlMs: 1_000, max: 10 });
    const first = Buffer.alloc(32, 1);
    cache.set('a', first);
    cache.set('a', Buffer.alloc(32, 2));
    expect(zeroed(first)).toBe(true);
    expect(cache.get('a')![0]).toBe(2);
    cache.clear();
  });
});

describe('Cloud KMS adapter with the DEK cache', () => {
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
  const decrypts = () => fake.calls.decrypt ?? 0;

  describeKeyEncryptor('Cloud KMS envelope with cached DEKs (same contract)', async () => {
    const encryptor = await kmsKeyEncryptor({ keyName: fake.keyName, client, dekCache: { ttlMs: 60_000, max: 100 } });
    return { encryptor, rotate: async () => (fake.rotate(), encryptor) };
  });

  it('asks KMS once per wrapped key and AAD within the ttl, again after it; a wrong AAD always goes to KMS and fails', async () => {
    let now = 0;
    const encryptor = await kmsKeyEncryptor({ keyName: fake.keyName, client, dekCache: { ttlMs: 5_000, max: 100, now: () => now } });
    const env = await encryptor.encrypt(Buffer.from('sk-cached-secret'), 'user:u|provider:openai|key:k');
    const before = decrypts();
    for (let i = 0; i < 3; i++) expect((await encryptor.decrypt(env, 'user:u|provider:openai|key:k')).toString()).toBe('sk-cached-secret');
    expect(decrypts()).toBe(before + 1);
    await expect(encryptor.decrypt(env, 'user:other|provider:openai|key:k')).rejects.toMatchObject({ name: 'DecryptError' });
    expect(decrypts()).toBe(before + 2);
    now = 5_000;
    await encryptor.decrypt(env, 'user:u|provider:openai|key:k');
    expect(decrypts()).toBe(before + 3);
  });

  it('without a cache (or a bound of 0) every decrypt is a KMS call', async () => {
    for (const dekCache of [undefined, { ttlMs: 0, max: 100 }, { ttlMs: 60_000, max: 0 }]) {
      const encryptor = await kmsKeyEncryptor({ keyName: fake.keyName, client, dekCache });
      const env = await encryptor.encrypt(Buffer.from('x'), 'aad');
      const before = decrypts();
      await encryptor.decrypt(env, 'aad');
      await encryptor.decrypt(env, 'aad');
      expect(decrypts()).toBe(before + 2);
    }
  });
});
