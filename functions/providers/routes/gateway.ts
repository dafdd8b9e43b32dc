import { createRoute, z } from '@hono/zod-openapi';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { problemResponses } from '../../shared/http/index.js';
import type { ChatRequest } from '../adapters/index.js';
import type { ProvidersEnv } from '../app.js';
import { evaluateCostAlertsFor } from '../service/alerts.js';
import { openAiModels } from '../service/catalog.js';
import { chatCompletions } from '../service/gateway.js';
import { json, Loose } from './schemas.js';
import { scope } from './auth.js';

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

const completions = createRoute({
  method: 'post',
  path: '/v1/chat/completions',
  middleware: [scope('chat')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: ChatCompletionRequest } } } },
  responses: {
    200: { description: 'chat.completion (JSON) or chat.completion.chunk events (text/event-stream)', content: { 'application/json': { schema: Loose('ChatCompletion') }, 'text/event-stream': { schema: z.string() } } },
    ...problemResponses,
    429: json(Loose('QuotaExceeded'), 'A quota limit (named in the body) or the provider rate limit'),
    502: json(Loose('UpstreamError'), 'The provider failed'),
    504: json(Loose('UpstreamTimeout'), 'The provider did not answer in time'),
  },
});

const models = createRoute({
  method: 'get',
  path: '/v1/models',
  middleware: [scope('models')] as const,
  responses: { 200: json(Loose('ModelList')), ...problemResponses },
});

export function registerGateway(app: OpenAPIHono<ProvidersEnv>): void {
  app.openapi(models, async (c) => c.json(await openAiModels(c.var.database, c.var.principal), 200));
  app.openapi(completions, async (c) => {
    const s = c.var.services;
    const body = c.req.valid('json') as unknown as ChatRequest;
    return chatCompletions(
      {
        database: s.database, keyEncryptor: s.keyEncryptor, production: s.config.NODE_ENV === 'production', platformKeys: s.platformKeys,
        retry: s.retry, log: c.var.log, track: s.track, settleRetryDelaysMs: s.settleRetryDelaysMs,
        afterSettle: (tenant) => evaluateCostAlertsFor(s.database, s.notifier, tenant),
      },
      c.var.principal,
      body,
    ) as never;
  });
}
