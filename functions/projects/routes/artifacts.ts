import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { isoDateTime, jsonBody, problems } from '../../shared/http/index.js';
import { OBJECT_ROUTE, type FilesystemStore } from '../../shared/storage/filesystem.js';
import type { ProjectsEnv } from '../app.js';
import * as svc from '../service/artifacts.js';
import { ArtifactSchema, artifactOut } from './lifecycle-shapes.js';
import { errors, idParams, ok, signedIn, text, uuid, tx } from './support.js';

/** A media type without parameters: it travels in a signed header, so nothing that could break one. */
const mediaType = z
  .string()
  .max(200)
  .regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i, 'a media type such as application/json');

const ArtifactBody = z
  .object({
    name: text(500),
    sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'a SHA-256 in hex'),
    size_bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    content_type: mediaType.optional(),
    expires_at: isoDateTime().optional(),
  })
  .strict()
  .openapi('RegisterArtifact');

const UploadSchema = z
  .object({
    url: z.string(),
    method: z.literal('PUT'),
    headers: z.record(z.string(), z.string()).openapi({ description: 'Send exactly these headers with the PUT: they are part of the signature' }),
    expires_at: z.string(),
  })
  .openapi('ArtifactUpload');
const DownloadSchema = z.object({ url: z.string(), expires_at: z.string() }).openapi('ArtifactDownload');
const sessionArtifact = z.object({ id: uuid, aid: uuid });

const tags = ['analysis'];
const limitErrors = {
  ...errors,
  413: { description: 'Larger than ARTIFACT_MAX_BYTES', content: { 'application/problem+json': { schema: z.object({}).passthrough() } } },
  429: { description: "Over the organization's ARTIFACT_ORG_QUOTA_BYTES", content: { 'application/problem+json': { schema: z.object({}).passthrough() } } },
} as const;

const register = createRoute({
  method: 'post',
  path: '/analysis-sessions/{id}/artifacts',
  tags,
  ...signedIn({ role: 'member' }),
  request: { params: idParams, body: jsonBody(ArtifactBody) },
  responses: { 201: ok(ArtifactSchema.extend({ upload: UploadSchema }), 'Registered (pending): PUT the content to upload.url with upload.headers, then call …/complete'), ...limitErrors },
});
const list = createRoute({ method: 'get', path: '/analysis-sessions/{id}/artifacts', tags, ...signedIn({ role: 'viewer' }), request: { params: idParams }, responses: { 200: ok(z.object({ items: z.array(ArtifactSchema) })), ...errors } });
const reupload = createRoute({
  method: 'post',
  path: '/analysis-sessions/{id}/artifacts/{aid}/upload-url',
  tags,
  ...signedIn({ role: 'member' }),
  request: { params: sessionArtifact },
  responses: { 200: ok(z.object({ upload: UploadSchema }), 'A fresh upload link for a pending artifact'), ...errors },
});
const complete = createRoute({
  method: 'post',
  path: '/analysis-sessions/{id}/artifacts/{aid}/complete',
  tags,
  ...signedIn({ role: 'member' }),
  request: { params: sessionArtifact },
  responses: { 200: ok(ArtifactSchema, 'The stored content matches the registered size and SHA-256: available'), ...errors },
});
const content = createRoute({
  method: 'get',
  path: '/analysis-sessions/{id}/artifacts/{aid}/content',
  tags,
  ...signedIn({ role: 'viewer' }),
  request: { params: sessionArtifact },
  responses: { 200: ok(DownloadSchema, 'A short-lived download link for the verified content'), ...errors },
});

const uploadOut = (g: Awaited<ReturnType<typeof svc.uploadGrant>>) => ({ url: g.url, method: g.method, headers: g.headers, expires_at: g.expiresAt.toISOString() });

export function registerArtifacts(app: OpenAPIHono<ProjectsEnv>): void {
  app.openapi(register, async (c) => {
    const { services } = c.var;
    const store = await services.objects();
    const row = await tx(c, (tx, t) => svc.registerArtifact(tx, t, { sessionId: c.req.valid('param').id, ...c.req.valid('json'), store, limits: services.artifactLimits }));
    // Signed after the row committed: signing may call IAM, and no transaction waits on the network.
    return c.json({ ...artifactOut(row), upload: uploadOut(await svc.uploadGrant(store, row)) }, 201);
  });
  app.openapi(list, async (c) => {
    const rows = await tx(c, (tx, t) => svc.listArtifacts(tx, t, c.req.valid('param').id));
    return c.json({ items: rows.map(artifactOut) }, 200);
  });
  app.openapi(reupload, async (c) => {
    const { id, aid } = c.req.valid('param');
    const row = await tx(c, (tx, t) => svc.requireArtifact(tx, t, { sessionId: id, artifactId: aid }));
    return c.json({ upload: uploadOut(await svc.uploadGrant(await c.var.services.objects(), row)) }, 200);
  });
  app.openapi(complete, async (c) => {
    const { id, aid } = c.req.valid('param');
    const store = await c.var.services.objects();
    // Two transactions around the verification: none is held while the bytes are read.
    const row = await tx(c, (tx, t) => svc.requireArtifact(tx, t, { sessionId: id, artifactId: aid }));
    if (row.status === 'available') return c.json(artifactOut(row), 200);
    await svc.verifyUpload(store, row);
    return c.json(artifactOut(await tx(c, (tx, t) => svc.markAvailable(tx, t, { sessionId: id, artifactId: aid }))), 200);
  });
  app.openapi(content, async (c) => {
    const { id, aid } = c.req.valid('param');
    const row = await tx(c, (tx, t) => svc.requireArtifact(tx, t, { sessionId: id, artifactId: aid }));
    const grant = await svc.downloadGrant(await c.var.services.objects(), row);
    return c.json({ url: grant.url, expires_at: grant.expiresAt.toISOString() }, 200);
  });

  // The embedded store's links (npm run dev): the signature in the query is the authorization, so this
  // path has no signedIn: it is public. With Cloud Storage there is nothing here.
  app.on(['PUT', 'GET'], `${OBJECT_ROUTE}*`, async (c) => {
    const store = await c.var.services.objects();
    if (store.kind !== 'filesystem') throw problems.notFound('object');
    const path = c.req.path;
    return (store as FilesystemStore).serve(c.req.raw, path.slice(path.indexOf(OBJECT_ROUTE) + OBJECT_ROUTE.length));
  });
}
