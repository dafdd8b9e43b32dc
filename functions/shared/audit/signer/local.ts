import { createECDH, createHash, createPrivateKey, createPublicKey, createSign, hkdfSync, type KeyObject } from 'node:crypto';
import type { Signer } from './port.js';

const N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

/** A P-256 private key derived from keyring material (HKDF), so dev seals stay verifiable across restarts without another secret. */
function derive(material: Buffer): KeyObject {
  for (let counter = 0; ; counter++) {
    const d = Buffer.from(hkdfSync('sha256', material, Buffer.from('lattice-lock'), Buffer.from(`audit-seal-signing:${counter}`), 32));
    const scalar = BigInt(`0x${d.toString('hex')}`);
    if (scalar === 0n || scalar >= N) continue;
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(d);
    const pub = ecdh.getPublicKey(); // 0x04 || x || y
    return createPrivateKey({
      key: { kty: 'EC', crv: 'P-256', d: d.toString('base64url'), x: pub.subarray(1, 33).toString('base64url'), y: pub.subarray(33, 65).toString('base64url') },
      format: 'jwk',
    });
  }
}

/**
 * Dev/embedded signer. LOCAL_KEYRING ("b64" or "kid:b64,kid2:b64") yields one signing key per entry: the
 * first signs, every entry verifies (rotation). Refused in production by openSigner.
 */
export function localSigner(keyring: string): Signer {
  const keys = keyring.split(',').map((entry) => {
    const at = entry.indexOf(':');
    const b64 = at > 0 ? entry.slice(at + 1) : entry;
    const privateKey = derive(Buffer.from(b64.trim(), 'base64'));
    const pem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
    const keyId = `local:${createHash('sha256').update(pem).digest('hex').slice(0, 16)}`;
    return { keyId, privateKey, pem };
  });
  const current = keys[0]!;
  return {
    kind: 'local',
    keyId: async () => current.keyId,
    async sign(message) {
      return { signature: createSign('sha256').update(message).sign(current.privateKey), keyId: current.keyId };
    },
    async publicKeyPem(keyId) {
      const key = keys.find((k) => k.keyId === keyId);
      if (!key) throw new Error(`unknown local signing key ${keyId}`);
      return key.pem;
    },
  };
}
