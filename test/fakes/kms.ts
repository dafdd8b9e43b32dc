import { createCipheriv, createDecipheriv, createHash, createSign, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local fake of the Cloud KMS REST API (v1), enough for the real @google-cloud/kms client with
 * `fallback: true, protocol: 'http'`: symmetric :encrypt / :decrypt (AAD enforced, key versions with
 * rotation), and an EC P-256 signing key (:asymmetricSign, /publicKey). Ciphertexts are opaque to
 * callers, as in KMS: [version byte][iv 12][tag 16][AES-256-GCM ct] under a per-version secret.
 */
export interface KmsFake {
  url: string;
  host: string;
  port: number;
  /** projects/…/cryptoKeys/… of the symmetric key. */
  keyName: string;
  /** projects/…/cryptoKeyVersions/1 of the EC_SIGN_P256_SHA256 key. */
  signingKeyVersionName: string;
  /** Makes a new primary version of the symmetric key (old versions still decrypt). */
  rotate(): string;
  /** Requests served, by method (e.g. calls.encrypt). */
  calls: Record<string, number>;
  close(): Promise<void>;
}

const PROJECT = 'projects/lattice-test/locations/global/keyRings/lattice';

export interface KmsFakeOptions {
  /**
   * Milliseconds every request waits before it is answered (default 0): a Cloud KMS call is a network
   * round trip to a regional service, which a fake on loopback would otherwise hide.
   */
  latencyMs?: number;
}

export async function startKmsFake(options: KmsFakeOptions = {}): Promise<KmsFake> {
  const latencyMs = options.latencyMs ?? 0;
  const keyName = `${PROJECT}/cryptoKeys/provider-keys`;
  const signingKeyVersionName = `${PROJECT}/cryptoKeys/audit-seal/cryptoKeyVersions/1`;
  const versions: Buffer[] = [randomBytes(32)];
  const signing: { privateKey: KeyObject; publicKey: KeyObject } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const calls: Record<string, number> = {};

  const versionName = (n: number) => `${keyName}/cryptoKeyVersions/${n}`;

  function encrypt(plaintext: Buffer, aad: Buffer) {
    const n = versions.length;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', versions[n - 1]!, iv);
    cipher.setAAD(aad);
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { name: versionName(n), ciphertext: Buffer.concat([Buffer.from([n]), iv, cipher.getAuthTag(), ct]) };
  }

  function decrypt(blob: Buffer, aad: Buffer): Buffer | undefined {
    const key = versions[(blob[0] ?? 0) - 1];
    if (!key || blob.length < 29) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(1, 13));
      decipher.setAAD(aad);
      decipher.setAuthTag(blob.subarray(13, 29));
      return Buffer.concat([decipher.update(blob.subarray(29)), decipher.final()]);
    } catch {
      return undefined;
    }
  }

  const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : '', 'base64');

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/v1\//, '');
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    const fail = (status: number, code: string, message: string) => send(status, { error: { code: status, message, status: code } });
    const count = (m: string) => (calls[m] = (calls[m] ?? 0) + 1);

    let m: RegExpMatchArray | null;
    if (req.method === 'POST' && (m = path.match(/^(.+):encrypt$/))) {
      count('encrypt');
      if (m[1] !== keyName) return fail(404, 'NOT_FOUND', `CryptoKey ${m[1]} not found.`);
      const out = encrypt(b64(body.plaintext), b64(body.additionalAuthenticatedData));
      return send(200, { name: out.name, ciphertext: out.ciphertext.toString('base64'), protectionLevel: 'SOFTWARE' });
    }
    if (req.method === 'POST' && (m = path.match(/^(.+):decrypt$/))) {
      count('decrypt');
      if (m[1] !== keyName) return fail(404, 'NOT_FOUND', `CryptoKey ${m[1]} not found.`);
      const plain = decrypt(b64(body.ciphertext), b64(body.additionalAuthenticatedData));
      // Real KMS answers 400 for both tampered ciphertext and a wrong AAD, without saying which.
      if (!plain) return fail(400, 'INVALID_ARGUMENT', "Decryption failed: verify that 'name' refers to the correct CryptoKey.");
      const blob = b64(body.ciphertext);
      return send(200, { plaintext: plain.toString('base64'), usedPrimary: blob[0] === versions.length, protectionLevel: 'SOFTWARE' });
    }
    if (req.method === 'POST' && (m = path.match(/^(.+):asymmetricSign$/))) {
      count('asymmetricSign');
      if (m[1] !== signingKeyVersionName) return fail(404, 'NOT_FOUND', `CryptoKeyVersion ${m[1]} not found.`);
      const digest = b64((body.digest as { sha256?: string } | undefined)?.sha256);
      const data = typeof body.data === 'string' ? b64(body.data) : undefined;
      if (!data && digest.length !== 32) return fail(400, 'INVALID_ARGUMENT', 'digest.sha256 must be 32 bytes');
      const signature = data ? createSign('sha256').update(data).sign(signing.privateKey) : signDigest(signing.privateKey, digest);
      return send(200, { signature: signature.toString('base64'), name: signingKeyVersionName, verifiedDigestCrc32c: false, protectionLevel: 'SOFTWARE' });
    }
    if (req.method === 'GET' && (m = path.match(/^(.+)\/publicKey$/))) {
      count('getPublicKey');
      if (m[1] !== signingKeyVersionName) return fail(404, 'NOT_FOUND', `CryptoKeyVersion ${m[1]} not found.`);
      const pem = signing.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      return send(200, { pem, algorithm: 'EC_SIGN_P256_SHA256', name: signingKeyVersionName, protectionLevel: 'SOFTWARE' });
    }
    return fail(404, 'NOT_FOUND', `no fake for ${req.method} ${path}`);
  }

  const server = createServer((req, res) => {
    const delayed = latencyMs > 0 ? new Promise((r) => setTimeout(r, latencyMs)).then(() => handle(req, res)) : handle(req, res);
    delayed.catch((err) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 500, message: String(err), status: 'INTERNAL' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    keyName,
    signingKeyVersionName,
    calls,
    rotate() {
      versions.push(randomBytes(32));
      return versionName(versions.length);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * ECDSA P-256 over an already computed SHA-256 digest, which is what KMS signs (`digest.sha256`).
 * node:crypto always hashes its input, so the signature is computed here with BigInt arithmetic and
 * DER-encoded like KMS's; any standard verifier (createVerify('sha256') over the data) accepts it.
 */
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const A = P - 3n;
const G: [bigint, bigint] = [
  0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
];
const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;
function inv(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
  }
  return mod(s0, m);
}
type Pt = [bigint, bigint] | null;
function add(p: Pt, q: Pt): Pt {
  if (!p) return q;
  if (!q) return p;
  if (p[0] === q[0] && mod(p[1] + q[1], P) === 0n) return null;
  const l = p[0] === q[0] && p[1] === q[1] ? mod((3n * p[0] * p[0] + A) * inv(2n * p[1], P), P) : mod((q[1] - p[1]) * inv(q[0] - p[0], P), P);
  const x = mod(l * l - p[0] - q[0], P);
  return [x, mod(l * (p[0] - x) - p[1], P)];
}
function mul(k: bigint, p: Pt): Pt {
  let r: Pt = null;
  for (let q = p; k > 0n; k >>= 1n, q = add(q, q)) if (k & 1n) r = add(r, q);
  return r;
}
const big = (b: Buffer) => BigInt(`0x${b.toString('hex') || '0'}`);
function derInt(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let b = Buffer.from(hex, 'hex');
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return Buffer.concat([Buffer.from([0x02, b.length]), b]);
}
function signDigest(privateKey: KeyObject, digest: Buffer): Buffer {
  const d = big(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'));
  const z = big(digest);
  for (;;) {
    const k = mod(big(randomBytes(40)), N - 1n) + 1n;
    const r = mod(mul(k, G)![0], N);
    const s = mod(inv(k, N) * (z + r * d), N);
    if (r === 0n || s === 0n) continue;
    const body = Buffer.concat([derInt(r), derInt(s)]);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
  }
}

/** The real KMS client, pointed at the fake, with an auth client that adds no credentials. */
export async function kmsClientFor(fake: Pick<KmsFake, 'host' | 'port'>) {
  const [{ KeyManagementServiceClient }, { PassThroughClient }] = await Promise.all([import('@google-cloud/kms'), import('google-auth-library')]);
  return new KeyManagementServiceClient({
    fallback: true,
    protocol: 'http',
    apiEndpoint: fake.host,
    port: fake.port,
    authClient: new PassThroughClient(),
  } as unknown as ConstructorParameters<typeof KeyManagementServiceClient>[0]);
}

export const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest();
