import { createRoute, z } from '@hono/zod-openapi';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { expectedVersion, inTenant, jsonBody, paginationQuery, problemResponses, problems, setEtag, tenantOf } from '../../shared/http/index.js';
import { PROVIDER_KINDS } from '../adapters/index.js';
import type { ProvidersEnv } from '../app.js';
import {
  createKey, deleteKey, getKey, keyNameTaken, keyToVerify, listKeys, loadKey, probeKey, recordVerification, resealKey, rotateKey, sealKey, type KeyDeps,
} from '../service/keys.js';
import { forgetRoutes } from '../service/resolve.js';
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
  keyEncryptor: c.var.services.keyEncryptor,
  production: c.var.config.NODE_ENV === 'production',
  urlGuard: c.var.services.urlGuard,
  verifyTimeoutMs: Math.min(c.var.config.GATEWAY_UPSTREAM_TIMEOUT_MS, 15_000),
});

/**
 * KMS and the provider are called between transactions (sealKey, probeKey, resealKey), never inside
 * one; a change forgets the caller's cached routes once it is committed.
 */
export function registerKeys(app: OpenAPIHono<ProvidersEnv>): void {
  app.openapi(create, async (c) => {
    const input = c.req.valid('json');
    const sealed = await sealKey(deps(c), tenantOf(c.var.principal), input);
    const key = await inTenant(c, (tx, t) => createKey(tx, t, sealed), { unique: keyNameTaken(input.name) });
    forgetRoutes(c.var.principal.userId);
    setEtag(c, key.version);
    c.var.log.info('provider key stored', { keyId: key.id, provider: key.provider, fingerprint: key.fingerprint });
    return c.json(key, 201);
  });
  app.openapi(list, async (c) => c.json(await inTenant(c, (tx, t) => listKeys(tx, t, c.req.valid('query'))), 200));
  app.openapi(get, async (c) => {
    const key = await inTenant(c, (tx, t) => getKey(tx, t, c.req.valid('param').id));
    setEtag(c, key.version);
    return c.json(key, 200);
  });
  app.openapi(verify, async (c) => {
    const { id } = c.req.valid('param');
    const target = await inTenant(c, (tx, t) => keyToVerify(tx, t, id));
    const valid = await probeKey(deps(c), tenantOf(c.var.principal), target);
    const key = await inTenant(c, (tx, t) => recordVerification(tx, t, { id, valid }));
    forgetRoutes(c.var.principal.userId);
    return c.json(key, 200);
  });
  app.openapi(rotate, async (c) => {
    const body = (c.req.header('content-type')?.includes('application/json') ? c.req.valid('json') : {}) ?? {};
    const ifMatch = c.req.header('if-match') ? expectedVersion(c) : undefined;
    const row = await inTenant(c, (tx, t) => loadKey(tx, t, c.req.valid('param').id));
    if (ifMatch !== undefined && ifMatch !== row.version) throw problems.preconditionFailed();
    const sealed = await resealKey(deps(c), tenantOf(c.var.principal), row, body);
    const key = await inTenant(c, (tx, t) => rotateKey(tx, t, { row, sealed, api_key: body.api_key }));
    forgetRoutes(c.var.principal.userId);
    setEtag(c, key.version);
    return c.json(key, 200);
  });
  app.openapi(remove, async (c) => {
    const { id } = c.req.valid('param');
    const expected = expectedVersion(c);
    await inTenant(c, (tx, t) => deleteKey(tx, t, { id, expected }));
    forgetRoutes(c.var.principal.userId);
    return c.body(null, 204);
  });
}
