import { createRoute, z } from '@hono/zod-openapi';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { expectedVersion, jsonBody, paginationQuery, problemResponses, setEtag } from '../../shared/http/index.js';
import { PROVIDER_KINDS } from '../adapters/index.js';
import type { ProvidersEnv } from '../app.js';
import { createKey, deleteKey, getKey, listKeys, rotateKey, verifyKey, type KeyDeps } from '../service/keys.js';
import { userOnly } from './auth.js';
import { IdParam, json, noContent } from './schemas.js';
import { ProviderKeySchema, VerifiedKeySchema } from './shapes.js';
import { listOf, moreProblems, problem } from '../../shared/http/openapi.js';

const Key = ProviderKeySchema;
const ApiKeySecret = z.string().min(8).max(4096).regex(/^\S+$/, 'must not contain whitespace');

const create = createRoute({
  method: 'post',
  path: '/keys', ...userOnly(),
  request: {
    body: jsonBody(z.object({
      provider: z.enum(PROVIDER_KINDS),
      name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, - and _ (the <route> in model names)'),
      api_key: ApiKeySecret,
      base_url: z.string().url().max(2000).nullish(),
      // Output cap reserved for (and, where the provider requires one, sent with) calls to models the
      // catalog does not list, when the client gives no max_tokens.
      default_max_output_tokens: z.number().int().min(1).max(10_000_000).nullish(),
      drop_params: z.boolean().nullish(),
    })),
  },
  responses: { 201: json(Key, 'Created (never the key: only its fingerprint)'), ...problemResponses, 409: moreProblems[409] },
});
const list = createRoute({ method: 'get', path: '/keys', ...userOnly(), request: { query: paginationQuery }, responses: { 200: json(listOf(Key)), ...problemResponses } });
const get = createRoute({ method: 'get', path: '/keys/{id}', ...userOnly(), request: { params: IdParam }, responses: { 200: json(Key), ...problemResponses } });
const verify = createRoute({ method: 'post', path: '/keys/{id}/verify', ...userOnly(), request: { params: IdParam }, responses: { 200: json(VerifiedKeySchema), ...problemResponses, 502: problem('The provider could not be reached or failed while verifying') } });
const rotate = createRoute({
  method: 'post',
  path: '/keys/{id}/rotate', ...userOnly(),
  request: { params: IdParam, body: { required: false, content: { 'application/json': { schema: z.object({ api_key: ApiKeySecret.optional() }) } } } },
  responses: { 200: json(Key), ...problemResponses, 412: moreProblems[412] },
});
const remove = createRoute({ method: 'delete', path: '/keys/{id}', ...userOnly(), request: { params: IdParam }, responses: { 204: noContent, ...problemResponses, 412: moreProblems[412], 428: moreProblems[428] } });

const deps = (c: Context<ProvidersEnv>): KeyDeps => ({
  database: c.var.database,
  keyEncryptor: c.var.services.keyEncryptor,
  production: c.var.config.NODE_ENV === 'production',
  urlGuard: c.var.services.urlGuard,
  verifyTimeoutMs: Math.min(c.var.config.GATEWAY_UPSTREAM_TIMEOUT_MS, 15_000),
});

export function registerKeys(app: OpenAPIHono<ProvidersEnv>): void {
  app.openapi(create, async (c) => {
    const key = await createKey(deps(c), c.var.principal, c.req.valid('json'));
    setEtag(c, key.version);
    c.var.log.info('provider key stored', { keyId: key.id, provider: key.provider, fingerprint: key.fingerprint });
    return c.json(key, 201);
  });
  app.openapi(list, async (c) => {
    const { limit, cursor } = c.req.valid('query');
    return c.json(await listKeys(deps(c), c.var.principal, limit, cursor), 200);
  });
  app.openapi(get, async (c) => {
    const key = await getKey(deps(c), c.var.principal, c.req.valid('param').id);
    setEtag(c, key.version);
    return c.json(key, 200);
  });
  app.openapi(verify, async (c) => c.json(await verifyKey(deps(c), c.var.principal, c.req.valid('param').id), 200));
  app.openapi(rotate, async (c) => {
    const body = c.req.header('content-type')?.includes('application/json') ? c.req.valid('json') : {};
    const ifMatch = c.req.header('if-match') ? expectedVersion(c) : undefined;
    const key = await rotateKey(deps(c), c.var.principal, c.req.valid('param').id, body ?? {}, ifMatch);
    setEtag(c, key.version);
    return c.json(key, 200);
  });
  app.openapi(remove, async (c) => {
    await deleteKey(deps(c), c.var.principal, c.req.valid('param').id, expectedVersion(c));
    return c.body(null, 204);
  });
}
