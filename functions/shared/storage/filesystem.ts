import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { attachment, OBJECT_NAME, type ObjectStore } from './port.js';

export interface FilesystemOptions {
  /** Folder the objects live in (the dev server's data directory, e.g. .data/artifacts). */
  root: string;
  /** URL the projects function is reached at; signed links point at its /artifact-objects/ route. */
  baseUrl: string;
  /** HMAC key of the links; a fresh one per instance when unset (links die with the dev server). */
  secret?: Buffer;
  now?: () => Date;
}

/** The embedded store also serves the signed links it hands out (the dev server's stand-in for Cloud Storage). */
export interface FilesystemStore extends ObjectStore {
  readonly kind: 'filesystem';
  /** Answers a PUT or GET of an /artifact-objects/<name>?… link; anything unsigned, expired or altered is refused. */
  serve(request: Request, name: string): Promise<Response>;
}

export const OBJECT_ROUTE = '/artifact-objects/';

const refuse = (status: number, code: string, detail: string) =>
  new Response(JSON.stringify({ type: `urn:lattice-lock:problem:${code}`, title: code, status, detail }), { status, headers: { 'content-type': 'application/problem+json' } });

/**
 * Filesystem adapter for `npm run dev`: objects are files under `root`, and the "signed URLs" are links
 * to the dev server carrying an HMAC over exactly what a V4 signed URL binds (method, object, expiry,
 * content type and size), so the dev flow behaves like production: the upload is refused unless it is
 * the promised size and type, before the expiry, and while no object of that name exists.
 */
export function filesystemObjectStore(options: FilesystemOptions): FilesystemStore {
  const root = resolve(options.root);
  const secret = options.secret ?? randomBytes(32);
  const now = options.now ?? (() => new Date());
  const base = options.baseUrl.replace(/\/+$/, '');

  const pathOf = (name: string) => {
    if (!OBJECT_NAME.test(name)) throw new Error('not an object name');
    return join(root, name);
  };
  const typeFile = (name: string) => `${pathOf(name)}.content-type`;
  const mac = (fields: string[]) => createHmac('sha256', secret).update(fields.join('\n')).digest('hex');
  const sameMac = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  const link_ = (name: string, query: Record<string, string>) => `${base}${OBJECT_ROUTE}${name}?${new URLSearchParams(query)}`;

  async function info(name: string) {
    try {
      const s = await stat(pathOf(name), { bigint: true });
      const contentType = await readFile(typeFile(name), 'utf8').catch(() => undefined);
      return { size: Number(s.size), contentType, generation: `${s.ino}.${s.mtimeNs}` };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async function acceptUpload(request: Request, name: string, q: URLSearchParams): Promise<Response> {
    const size = Number(q.get('size'));
    const contentType = q.get('content_type') ?? '';
    if (request.headers.get('content-type') !== contentType) return refuse(403, 'signature-mismatch', 'the content type is not the one the link was signed for');
    const declared = request.headers.get('content-length');
    if (declared !== null && Number(declared) !== size) return refuse(400, 'entity-too-large-or-small', `the link accepts exactly ${size} bytes`);
    const target = pathOf(name);
    await mkdir(dirname(target), { recursive: true });
    const part = `${target}.${randomUUID()}.part`;
    let seen = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        seen += chunk.length;
        done(seen > size ? new Error('too large') : null, chunk);
      },
    });
    try {
      await pipeline(request.body ? Readable.fromWeb(request.body as never) : Readable.from([]), counter, createWriteStream(part, { flags: 'wx' }));
      if (seen !== size) throw new Error('wrong size');
      // link() creates the name only if it does not exist: the same guarantee as x-goog-if-generation-match: 0.
      await link(part, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return refuse(412, 'precondition-failed', 'an object of this name already exists');
      if (code) throw err;
      return refuse(400, 'entity-too-large-or-small', `the link accepts exactly ${size} bytes`);
    } finally {
      await unlink(part).catch(() => undefined);
    }
    await writeFile(typeFile(name), contentType);
    return new Response(null, { status: 200 });
  }

  async function serveDownload(name: string, q: URLSearchParams): Promise<Response> {
    const found = await info(name);
    if (!found) return refuse(404, 'no-such-key', 'the object does not exist');
    return new Response(Readable.toWeb(createReadStream(pathOf(name))) as ReadableStream, {
      status: 200,
      headers: { 'content-type': q.get('response_type') ?? 'application/octet-stream', 'content-length': String(found.size), 'content-disposition': q.get('response_disposition') ?? 'attachment' },
    });
  }

  return {
    kind: 'filesystem',
    uriOf: (name) => `file://${pathOf(name)}`,

    async signUpload(name, { contentType, size, ttlSeconds }) {
      pathOf(name);
      const expiresAt = new Date(now().getTime() + ttlSeconds * 1000);
      const expires = String(Math.floor(expiresAt.getTime() / 1000));
      const sig = mac(['PUT', name, expires, contentType, String(size)]);
      return { url: link_(name, { expires, size: String(size), content_type: contentType, sig }), method: 'PUT', headers: { 'content-type': contentType }, expiresAt };
    },

    async signDownload(name, { ttlSeconds, contentType, filename }) {
      pathOf(name);
      const expiresAt = new Date(now().getTime() + ttlSeconds * 1000);
      const expires = String(Math.floor(expiresAt.getTime() / 1000));
      const disposition = attachment(filename);
      const sig = mac(['GET', name, expires, contentType, disposition]);
      return { url: link_(name, { expires, response_type: contentType, response_disposition: disposition, sig }), expiresAt };
    },

    stat: info,

    async *read(name, generation) {
      const found = await info(name);
      if (!found || (generation && found.generation !== generation)) throw Object.assign(new Error('no such object'), { code: 404 });
      yield* createReadStream(pathOf(name));
    },

    async delete(name) {
      const existed = (await info(name)) !== undefined;
      await rm(pathOf(name), { force: true });
      await rm(typeFile(name), { force: true });
      return existed;
    },

    async serve(request, name) {
      if (!OBJECT_NAME.test(name)) return refuse(404, 'no-such-key', 'the object does not exist');
      const q = new URL(request.url).searchParams;
      const expires = q.get('expires') ?? '';
      const fields =
        request.method === 'PUT'
          ? ['PUT', name, expires, q.get('content_type') ?? '', q.get('size') ?? '']
          : ['GET', name, expires, q.get('response_type') ?? '', q.get('response_disposition') ?? ''];
      if (!/^\d+$/.test(expires) || !sameMac(mac(fields), q.get('sig') ?? '')) return refuse(403, 'signature-mismatch', 'the link is not signed for this request');
      if (Number(expires) * 1000 <= now().getTime()) return refuse(400, 'expired-token', 'the link has expired');
      if (request.method === 'PUT') return acceptUpload(request, name, q);
      if (request.method === 'GET') return serveDownload(name, q);
      return refuse(405, 'method-not-allowed', 'links accept PUT or GET');
    },
  };
}
