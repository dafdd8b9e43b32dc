import { createHash, createSign, createVerify, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local fake of the parts of Cloud Storage the artifact store uses, driven by the real
 * @google-cloud/storage client (`apiEndpoint` pointed here):
 *
 * - XML API requests authenticated by a V4 signed URL — PUT and GET of `/<bucket>/<object>`
 *   (https://cloud.google.com/storage/docs/access-control/signed-urls). The signature is checked the way
 *   Cloud Storage checks it: the canonical request is rebuilt from the request actually received
 *   (https://cloud.google.com/storage/docs/authentication/canonical-requests), so a header that was
 *   signed and then sent with another value fails with 403 SignatureDoesNotMatch; a request past
 *   X-Goog-Date + X-Goog-Expires fails with 400 ExpiredToken ("The provided token has expired.").
 *   `x-goog-content-length-range: MIN,MAX` refuses a body of any other size and
 *   `x-goog-if-generation-match: 0` refuses to replace an existing object with 412 PreconditionFailed
 *   (https://cloud.google.com/storage/docs/xml-api/reference-headers).
 * - JSON API objects.get (metadata, and `alt=media` with `x-goog-hash: crc32c=…,md5=…` as
 *   https://cloud.google.com/storage/docs/json_api/v1/objects/get) and objects.delete (204; 404 with
 *   the JSON error body of https://cloud.google.com/storage/docs/json_api/v1/status-codes).
 * - IAM Credentials signBlob (https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/signBlob),
 *   how a service account without a key file signs URLs, and the metadata server paths the client
 *   library reads on Cloud Run (https://cloud.google.com/compute/docs/metadata/querying-metadata:
 *   `Metadata-Flavor: Google` required and echoed), so that path runs for real too.
 *
 * Deviation, only because it listens on a loopback port: the signed `host` header is compared without
 * the port (the client signs `new URL(apiEndpoint).hostname`). The JSON API calls are not authorised
 * (the client sends no token to a custom endpoint unless told to).
 */
export interface StoredObject {
  data: Buffer;
  contentType: string;
  generation: string;
  /** Computed once at write, as Cloud Storage keeps them in the object's metadata. */
  crc32c: string;
  md5: string;
}

export interface GcsFake {
  url: string;
  bucket: string;
  /** The signing service account: its key file, for clients that sign locally. */
  credentials: { client_email: string; private_key: string };
  /** For `getSignedUrl({ signingEndpoint })`: this fake's IAM Credentials root. */
  signingEndpoint: string;
  /** For GCE_METADATA_HOST: this fake's metadata server. */
  metadataHost: string;
  objects: Map<string, StoredObject>;
  /** Moves the fake's clock (what "now" is when it checks a signed URL's expiry). */
  advance(seconds: number): void;
  /** Requests served, by kind (e.g. calls.signBlob, calls['xml.PUT']). */
  calls: Record<string, number>;
  close(): Promise<void>;
}

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32C (Castagnoli), big-endian, base64: the form of `x-goog-hash: crc32c=…`. */
function crc32c(data: Buffer): string {
  let c = 0xffffffff;
  for (const byte of data) c = CRC32C_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}

/** RFC 3986 encoding the V4 canonical query uses (everything but unreserved characters). */
const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Writes a body in pieces of random size, as a real connection delivers it. */
function writeSplit(res: ServerResponse, data: Buffer) {
  let at = 0;
  while (at < data.length) {
    const n = 1 + Math.floor(Math.random() * Math.min(64 * 1024, data.length - at));
    res.write(data.subarray(at, at + n));
    at += n;
  }
  res.end();
}

export async function startGcsFake(options: { bucket?: string } = {}): Promise<GcsFake> {
  const bucket = options.bucket ?? 'lattice-artifacts-test';
  const email = 'lattice-projects-test@lattice-test.iam.gserviceaccount.com';
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const objects = new Map<string, StoredObject>();
  const calls: Record<string, number> = {};
  const tokens = new Set<string>();
  let skewMs = 0;
  let generation = 1_700_000_000_000_000;
  const now = () => Date.now() + skewMs;
  const count = (k: string) => (calls[k] = (calls[k] ?? 0) + 1);

  const xmlError = (res: ServerResponse, status: number, code: string, message: string, details?: string) => {
    res.writeHead(status, { 'content-type': 'application/xml; charset=UTF-8' });
    res.end(`<?xml version='1.0' encoding='UTF-8'?><Error><Code>${code}</Code><Message>${message}</Message>${details ? `<Details>${details}</Details>` : ''}</Error>`);
  };
  const jsonError = (res: ServerResponse, status: number, reason: string, message: string) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify({ error: { code: status, message, errors: [{ message, domain: 'global', reason }] } }));
  };
  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };

  /** Checks a V4 signed request; answers the error itself and returns false when it fails. */
  function verifySigned(req: IncomingMessage, url: URL, res: ServerResponse): boolean {
    const q = url.searchParams;
    const date = q.get('X-Goog-Date') ?? '';
    const expires = Number(q.get('X-Goog-Expires'));
    const signed = (q.get('X-Goog-SignedHeaders') ?? '').split(';').filter(Boolean);
    const credential = q.get('X-Goog-Credential') ?? '';
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
    if (q.get('X-Goog-Algorithm') !== 'GOOG4-RSA-SHA256' || !m || !Number.isInteger(expires) || expires < 1 || expires > 604_800 || !signed.includes('host')) {
      xmlError(res, 400, 'MalformedSecurityHeader', 'Your request has a malformed header.');
      return false;
    }
    const start = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
    if (now() > start + expires * 1000) {
      xmlError(res, 400, 'ExpiredToken', 'The provided token has expired.', `Request signature expired at: ${new Date(start + expires * 1000).toISOString()}`);
      return false;
    }
    const [account, scopeDate, location, service, kind] = credential.split('/');
    if (account !== email || scopeDate !== date.slice(0, 8) || location !== 'auto' || service !== 'storage' || kind !== 'goog4_request') {
      xmlError(res, 403, 'SignatureDoesNotMatch', 'Access denied.', 'The credential scope does not match a known signer.');
      return false;
    }
    const headerValue = (name: string) => {
      if (name === 'host') return (req.headers.host ?? '').replace(/:\d+$/, '');
      const v = req.headers[name];
      return v === undefined ? undefined : (Array.isArray(v) ? v.join(',') : v).trim().replace(/\s{2,}/g, ' ');
    };
    const canonicalHeaders = signed.map((h) => `${h}:${headerValue(h) ?? ''}\n`).join('');
    const canonicalQuery = [...q.entries()]
      .filter(([k]) => k !== 'X-Goog-Signature')
      .map(([k, v]) => [encode(k), encode(v)] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const canonicalRequest = [req.method, url.pathname, canonicalQuery, canonicalHeaders, signed.join(';'), 'UNSIGNED-PAYLOAD'].join('\n');
    const stringToSign = ['GOOG4-RSA-SHA256', date, `${date.slice(0, 8)}/auto/storage/goog4_request`, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
    const signature = Buffer.from(q.get('X-Goog-Signature') ?? '', 'hex');
    const ok = signed.every((h) => headerValue(h) !== undefined) && createVerify('RSA-SHA256').update(stringToSign).verify(publicKey, signature);
    if (!ok) {
      xmlError(res, 403, 'SignatureDoesNotMatch', 'Access denied.', 'The request signature we calculated does not match the signature you provided. Check your Google secret key and signing method.');
      return false;
    }
    return true;
  }

  async function xml(req: IncomingMessage, res: ServerResponse, url: URL, name: string) {
    count(`xml.${req.method}`);
    if (!verifySigned(req, url, res)) return;
    if (req.method === 'PUT') {
      const range = req.headers['x-goog-content-length-range'];
      const precondition = req.headers['x-goog-if-generation-match'];
      const body = await readBody(req);
      if (typeof range === 'string') {
        const [min, max] = range.split(',').map(Number);
        if (body.length < min! || body.length > max!) return xmlError(res, 400, 'EntityTooLarge', 'Your proposed upload is outside the range given in x-goog-content-length-range.');
      }
      if (precondition === '0' && objects.has(name)) return xmlError(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold.');
      const stored = { data: body, contentType: String(req.headers['content-type'] ?? 'application/octet-stream'), generation: String(++generation), crc32c: crc32c(body), md5: createHash('md5').update(body).digest('base64') };
      objects.set(name, stored);
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"`, 'x-goog-generation': stored.generation, 'content-length': '0' });
      return res.end();
    }
    if (req.method === 'GET') {
      const found = objects.get(name);
      if (!found) return xmlError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
      res.writeHead(200, {
        'content-type': url.searchParams.get('response-content-type') ?? found.contentType,
        'content-length': String(found.data.length),
        ...(url.searchParams.get('response-content-disposition') ? { 'content-disposition': url.searchParams.get('response-content-disposition')! } : {}),
        'x-goog-generation': found.generation,
        'x-goog-hash': `crc32c=${found.crc32c},md5=${found.md5}`,
      });
      return writeSplit(res, found.data);
    }
    return xmlError(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  }

  function objectResource(name: string, o: StoredObject) {
    return {
      kind: 'storage#object',
      id: `${bucket}/${name}/${o.generation}`,
      name,
      bucket,
      generation: o.generation,
      metageneration: '1',
      contentType: o.contentType,
      size: String(o.data.length),
      md5Hash: o.md5,
      crc32c: o.crc32c,
      storageClass: 'STANDARD',
    };
  }

  async function json(req: IncomingMessage, res: ServerResponse, url: URL, name: string) {
    const found = objects.get(name);
    const wanted = url.searchParams.get('generation');
    const visible = found && (!wanted || wanted === found.generation) ? found : undefined;
    if (req.method === 'DELETE') {
      count('json.delete');
      if (!visible) return jsonError(res, 404, 'notFound', `No such object: ${bucket}/${name}`);
      objects.delete(name);
      res.writeHead(204);
      return res.end();
    }
    if (req.method !== 'GET') return jsonError(res, 405, 'methodNotAllowed', 'method not allowed');
    if (!visible) return jsonError(res, 404, 'notFound', `No such object: ${bucket}/${name}`);
    if (url.searchParams.get('alt') === 'media') {
      count('json.media');
      res.writeHead(200, {
        'content-type': visible.contentType,
        'content-length': String(visible.data.length),
        'x-goog-generation': visible.generation,
        'x-goog-stored-content-encoding': 'identity',
        'x-goog-hash': `crc32c=${visible.crc32c},md5=${visible.md5}`,
      });
      return writeSplit(res, visible.data);
    }
    count('json.get');
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify(objectResource(name, visible)));
  }

  async function signBlob(req: IncomingMessage, res: ServerResponse, account: string) {
    count('signBlob');
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (!tokens.has(token)) {
      res.writeHead(401, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } }));
    }
    if (account !== email) {
      res.writeHead(403, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: { code: 403, message: `Permission 'iam.serviceAccounts.signBlob' denied on resource (or it may not exist).`, status: 'PERMISSION_DENIED' } }));
    }
    const { payload } = JSON.parse((await readBody(req)).toString('utf8')) as { payload: string };
    const signedBlob = createSign('RSA-SHA256').update(Buffer.from(payload, 'base64')).sign(privateKey).toString('base64');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keyId: 'fake-key-1', signedBlob }));
  }

  function metadata(req: IncomingMessage, res: ServerResponse, path: string) {
    count('metadata');
    if (req.headers['metadata-flavor'] !== 'Google') {
      res.writeHead(403);
      return res.end('Missing Metadata-Flavor:Google header.');
    }
    const headers = { 'metadata-flavor': 'Google' };
    if (path === '/computeMetadata/v1/instance' || path === '/computeMetadata/v1/instance/') {
      res.writeHead(200, { ...headers, 'content-type': 'application/text' });
      return res.end('attributes/\nservice-accounts/\n');
    }
    if (path === '/computeMetadata/v1/instance/service-accounts/default/email') {
      res.writeHead(200, { ...headers, 'content-type': 'application/text' });
      return res.end(email);
    }
    if (path === '/computeMetadata/v1/instance/service-accounts/default/token') {
      const token = `ya29.fake-${randomBytes(12).toString('hex')}`;
      tokens.add(token);
      res.writeHead(200, { ...headers, 'content-type': 'application/json' });
      return res.end(JSON.stringify({ access_token: token, expires_in: 3599, token_type: 'Bearer' }));
    }
    if (path === '/computeMetadata/v1/project/project-id') {
      res.writeHead(200, { ...headers, 'content-type': 'application/text' });
      return res.end('lattice-test');
    }
    if (path === '/computeMetadata/v1/universe/universe-domain' || path === '/computeMetadata/v1/universe/universe_domain') {
      res.writeHead(200, { ...headers, 'content-type': 'application/text' });
      return res.end('googleapis.com');
    }
    res.writeHead(404, headers);
    res.end('Not Found');
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname;
    let m: RegExpMatchArray | null;
    if (path.startsWith('/computeMetadata/')) return metadata(req, res, path);
    if (req.method === 'POST' && (m = path.match(/^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):signBlob$/))) return signBlob(req, res, decodeURIComponent(m[1]!));
    if ((m = path.match(/^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)$/))) {
      if (decodeURIComponent(m[1]!) !== bucket) return jsonError(res, 404, 'notFound', 'The specified bucket does not exist.');
      return json(req, res, url, decodeURIComponent(m[2]!));
    }
    if ((m = path.match(/^\/([^/]+)\/(.+)$/))) {
      if (m[1] !== bucket) return xmlError(res, 404, 'NoSuchBucket', 'The specified bucket does not exist.');
      return xml(req, res, url, decodeURIComponent(m[2]!));
    }
    jsonError(res, 404, 'notFound', `no route for ${req.method} ${path}`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) jsonError(res, 500, 'backendError', err.message);
      else res.destroy(err);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    bucket,
    credentials: { client_email: email, private_key: privatePem },
    signingEndpoint: `${url}/v1/projects/-/serviceAccounts/`,
    metadataHost: `127.0.0.1:${port}`,
    objects,
    advance: (seconds) => void (skewMs += seconds * 1000),
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The real client pointed at the fake, signing locally with the service account's key file. */
export async function storageClientFor(fake: GcsFake) {
  const { Storage } = await import('@google-cloud/storage');
  return new Storage({ apiEndpoint: fake.url, projectId: 'lattice-test', credentials: fake.credentials, retryOptions: { autoRetry: false } });
}
