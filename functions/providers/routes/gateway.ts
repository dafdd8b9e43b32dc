import { every } from 'hono/combine';
import { createRoute, z } from '@hono/zod-openapi';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { inTenant, openAiProblem, openAiProblemResponses } from '../../shared/http/index.js';
import type { ChatRequest, EmbeddingRequest } from '../adapters/index.js';
import type { ProvidersEnv } from '../app.js';
import { evaluateCostAlertsFor } from '../service/alerts.js';
import { addressableModels, callerRoutes, publicEntry, qualifyModel, type ModelListDeps } from '../service/model-lists.js';
import { providerProblems } from '../service/errors.js';
import { createEmbeddings } from '../service/embeddings.js';
import { chatCompletions, type GatewayDeps } from '../service/gateway.js';
import { json } from './schemas.js';
import { ChatCompletionSchema, EmbeddingListSchema, ModelListSchema } from './shapes.js';
import { gatewayCaller } from './auth.js';

const Message = z.looseObject({ role: z.string().min(1).max(32), content: z.unknown().optional() });
export const ChatCompletionRequest = z
  .looseObject({
    model: z.string().min(1).max(300),
    messages: z.array(Message).min(1).max(10_000),
    stream: z.boolean().nullish(),
    stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
    max_tokens: z.number().int().positive().max(10_000_000).nullish(),
    max_completion_tokens: z.number().int().positive().max(10_000_000).nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    stop: z.union([z.string(), z.array(z.string()).max(16)]).nullish(),
    // OpenAI's own bound; the reservation counts n × the output cap.
    n: z.number().int().min(1).max(128).nullish(),
    drop_params: z.boolean().nullish(),
  })
  .openapi('ChatCompletionRequest');

/** What a model call can answer besides 2xx, in the OpenAI shape every /v1/ error is sent in. */
const gatewayProblems = {
  ...openAiProblemResponses,
  429: openAiProblem('A quota limit (named in the body) or the provider rate limit'),
  502: openAiProblem('The provider failed'),
  503: openAiProblem('The provider is disabled, not configured or overloaded'),
  504: openAiProblem('The provider did not answer in time'),
} as const;

const completions = createRoute({
  method: 'post',
  path: '/v1/chat/completions',
  ...gatewayCaller('chat'),
  request: { body: { required: true, content: { 'application/json': { schema: ChatCompletionRequest } } } },
  responses: {
    200: { description: 'chat.completion (JSON) or chat.completion.chunk events (text/event-stream)', content: { 'application/json': { schema: ChatCompletionSchema }, 'text/event-stream': { schema: z.string() } } },
    ...gatewayProblems,
  },
});

export const EmbeddingCreateRequest = z
  .looseObject({
    model: z.string().min(1).max(300),
    input: z.union([z.string(), z.array(z.string()).min(1).max(2048), z.array(z.number().int()).min(1), z.array(z.array(z.number().int()).min(1)).min(1).max(2048)]),
    encoding_format: z.enum(['float', 'base64']).nullish(),
    dimensions: z.number().int().positive().max(100_000).nullish(),
    user: z.string().max(256).nullish(),
    drop_params: z.boolean().nullish(),
  })
  .openapi('EmbeddingCreateRequest');

const embeddings = createRoute({
  method: 'post',
  path: '/v1/embeddings',
  ...gatewayCaller('chat'),
  request: { body: { required: true, content: { 'application/json': { schema: EmbeddingCreateRequest } } } },
  responses: {
    200: json(EmbeddingListSchema),
    ...gatewayProblems,
  },
});

const models = createRoute({
  method: 'get',
  path: '/v1/models',
  ...gatewayCaller('models'),
  responses: { 200: json(ModelListSchema), ...openAiProblemResponses },
});

function gatewayDeps(c: Context<ProvidersEnv>): GatewayDeps {
  const s = c.var.services;
  return {
    database: s.database, keyEncryptor: s.keyEncryptor, production: s.config.NODE_ENV === 'production', platformKeys: s.platformKeys,
    retry: s.retry, urlGuard: s.urlGuard, log: c.var.log, track: s.track, settles: s.settles, reserves: s.reserves, quotaLeases: s.quotaLeases,
    afterSettle: (tenant) => evaluateCostAlertsFor(s.database, s.notifier, tenant),
  };
}

const listDeps = (c: Context<ProvidersEnv>): ModelListDeps => ({
  database: c.var.database, keyEncryptor: c.var.services.keyEncryptor, production: c.var.config.NODE_ENV === 'production', platformKeys: c.var.services.platformKeys,
  urlGuard: c.var.services.urlGuard,
});

/** The caller's routes read in the route's transaction, then the providers' lists fetched after it. */
async function callerModels(c: Context<ProvidersEnv>) {
  const routes = await inTenant(c, (tx, t) => callerRoutes(tx, t));
  return addressableModels(listDeps(c), c.var.principal, routes);
}

export function registerGateway(app: OpenAPIHono<ProvidersEnv>): void {
  app.openapi(models, async (c) => c.json({ object: 'list', data: (await callerModels(c)).map(publicEntry) }, 200));
  // Model ids contain '/', so the id is the rest of the path (hono's regexp parameter); documented
  // beside GET /v1/models rather than as an OpenAPI path parameter, which cannot hold a '/'.
  // Every middleware gatewayCaller declares, whatever it grows to (not a fixed two).
  app.get('/v1/models/:id{.+}', every(...(gatewayCaller('models').middleware as MiddlewareHandler<ProvidersEnv>[])), async (c) => {
    const id = decodeURIComponent(c.req.param('id'));
    const all = await callerModels(c);
    let found = all.find((m) => m.id === id);
    if (!found) {
      const q = await qualifyModel(listDeps(c), c.var.principal, id);
      if (typeof q === 'string') found = all.find((m) => m.id === q);
    }
    if (!found) throw providerProblems.noRouteOffers(id);
    return c.json(publicEntry(found), 200);
  });
  app.openapi(completions, async (c) => chatCompletions(gatewayDeps(c), c.var.principal, c.req.valid('json') as unknown as ChatRequest) as never);
  app.openapi(embeddings, async (c) => createEmbeddings(gatewayDeps(c), c.var.principal, c.req.valid('json') as unknown as EmbeddingRequest) as never);
}
