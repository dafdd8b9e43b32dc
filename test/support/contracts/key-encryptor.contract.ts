import { describe, expect, it } from 'vitest';
import { DecryptError, type KeyEncryptor } from '../../../functions/shared/crypto/index.js';

export interface KeyEncryptorHarness {
  encryptor: KeyEncryptor;
  /** Moves the adapter to a new current key version (KMS rotation, keyring with a new first key). */
  rotate?: () => Promise<KeyEncryptor>;
}

/** The KeyEncryptor contract: every adapter (local keyring, Cloud KMS) must pass all of it. */
export function describeKeyEncryptor(name: string, make: () => Promise<KeyEncryptorHarness>): void {
  describe(`KeyEncryptor contract: ${name}`, () => {
    const aad = 'user:u1|provider:openai|key:k1';
    const secret = () => Buffer.from('sk-live-0123456789abcdefXYZW', 'utf8');

    it('round-trips a secret with the same associated data', async () => {
      const { encryptor } = await make();
      const env = await encryptor.encrypt(secret(), aad);
      const out = await encryptor.decrypt(env, aad);
      expect(out.toString('utf8')).toBe('sk-live-0123456789abcdefXYZW');
      // The caller owns the plaintext buffer and wipes it; that must not reach the adapter's state.
      out.fill(0);
      expect((await encryptor.decrypt(env, aad)).toString('utf8')).toBe('sk-live-0123456789abcdefXYZW');
    });

    it('never stores the plaintext, and uses a fresh data key per secret', async () => {
      const { encryptor } = await make();
      const a = await encryptor.encrypt(secret(), aad);
      const b = await encryptor.encrypt(secret(), aad);
      expect(a).not.toContain('sk-live');
      expect(a).not.toContain(Buffer.from('sk-live-0123456789abcdefXYZW').toString('base64'));
      const [ea, eb] = [JSON.parse(a), JSON.parse(b)];
      expect(ea.wdek).not.toBe(eb.wdek);
      expect(ea.ct).not.toBe(eb.ct);
      expect(ea.kek).toBe(encryptor.kind);
    });

    it('refuses a different associated data (ciphertext moved to another owner)', async () => {
      const { encryptor } = await make();
      const env = await encryptor.encrypt(secret(), aad);
      await expect(encryptor.decrypt(env, 'user:u2|provider:openai|key:k1')).rejects.toBeInstanceOf(DecryptError);
    });

    it('refuses a tampered ciphertext, tag or wrapped key', async () => {
      const { encryptor } = await make();
      const env = JSON.parse(await encryptor.encrypt(secret(), aad));
      const flip = (b64: string) => {
        const buf = Buffer.from(b64, 'base64');
        buf[buf.length - 1]! ^= 0x01;
        return buf.toString('base64');
      };
      for (const field of ['ct', 'tag', 'wdek'] as const) {
        await expect(encryptor.decrypt(JSON.stringify({ ...env, [field]: flip(env[field]) }), aad)).rejects.toBeInstanceOf(DecryptError);
      }
      await expect(encryptor.decrypt('not an envelope', aad)).rejects.toBeInstanceOf(DecryptError);
    });

    it('swapping the sealed secret between two envelopes fails (DEK binds the secret)', async () => {
      const { encryptor } = await make();
      const one = JSON.parse(await encryptor.encrypt(secret(), aad));
      const two = JSON.parse(await encryptor.encrypt(Buffer.from('other-secret'), aad));
      await expect(encryptor.decrypt(JSON.stringify({ ...one, ct: two.ct, iv: two.iv, tag: two.tag }), aad)).rejects.toBeInstanceOf(DecryptError);
    });

    it('rewraps to the current key version without changing the sealed secret', async () => {
      const harness = await make();
      const env = await harness.encryptor.encrypt(secret(), aad);
      const before = harness.encryptor.keyVersionOf(env);
      const current = harness.rotate ? await harness.rotate() : harness.encryptor;
      const rewrapped = await current.rewrap(env, aad);
      const [e0, e1] = [JSON.parse(env), JSON.parse(rewrapped)];
      expect(e1.ct).toBe(e0.ct);
      if (harness.rotate) expect(current.keyVersionOf(rewrapped)).not.toBe(before);
      const out = await current.decrypt(rewrapped, aad);
      expect(out.toString()).toBe('sk-live-0123456789abcdefXYZW');
      // The old wrapping still opens during rotation (no downtime).
      expect((await current.decrypt(env, aad)).toString()).toBe('sk-live-0123456789abcdefXYZW');
      await expect(current.rewrap(env, 'wrong')).rejects.toBeInstanceOf(DecryptError);
    });

    it('refuses an envelope made by the other adapter kind', async () => {
      const { encryptor } = await make();
      const env = JSON.parse(await encryptor.encrypt(secret(), aad));
      const other = encryptor.kind === 'kms' ? 'local' : 'kms';
      await expect(encryptor.decrypt(JSON.stringify({ ...env, kek: other }), aad)).rejects.toBeInstanceOf(DecryptError);
    });
  });
}
