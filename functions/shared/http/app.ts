import { randomUUID } from 'node:crypto';
import { OpenAPIHono, type Hook } from '@hono/zod-openapi';
import type { Context, Env, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { FunctionEnv, KernelServices } from './context.js';
import { assertSafeInput, jsonDepthExceeds, jsonTooDeep } from './input.js';
import { bodyLimitFor, isObjectLinkPath, isOpenAiPath } from './limits.js';
import { rootLogger, traceFields } from './logger.js';
import { HttpProblem, sendProblem, toProblem, zodIssues } from './problem.js';
import { registerHealth } from './health.js';
import { registerDocs } from './docs.js';
import { lazy } from '../services.js';

export interface AppOptions<S extends KernelServices> {
  /** The function's name: auth | projects | providers | jobs. */
  name: string;
  version?: string;
  /** Security every operation of the document needs unless it declares its own (OpenAPI 3.1 §4.8.1 `security`). */
  security?: Record<string, string[]>[];
  /** Builds the instance's services once, on the first request that needs them. */
  services: () => Promise<S>;
}

const REQUEST_ID = /^[\w.-]{1,128}$/;

/** 404 for unknown routes, as problem+json (OpenAI shape under /v1/). */
export function notFoundProblem(c: Context): Response {
  const { body } = toProblem(new HttpProblem(404, 'not-found', `no route for ${c.req.method} ${c.req.path}`), c.get('requestId') ?? randomUUID());
  return sendProblem(c, body, {}, isOpenAiPath(c.req.path));
}

/**
 * zod-openapi's hook: a body, query or param that fails its schema answers 422 with every issue;
 * one that passes is then held to the kernel's input rules (well-formed text without NUL, bounded
 * nesting; see input.ts), so every text field of every schema, free-form JSON included, is covered.
 */
export const validationHook: Hook<unknown, Env, string, unknown> = (result) => {
  if (!result.success) {
    throw new HttpProblem(422, 'validation-failed', 'the request does not match its schema', { errors: zodIssues(result.error) });
  }
  assertSafeInput(result.data);
};

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Bounds JSON nesting before anything parses the body (422 json-too-deep): the text is read once
 * (hono caches it, so the validator's json() reuses it) and scanned without recursion.
 */
export const jsonDepthGuard: MiddlewareHandler = async (c, next) => {
  // Object links stream their bytes to the store unread (any content type): they are not JSON requests.
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && !isObjectLinkPath(c.req.path) && JSON_TYPE.test(c.req.header('content-type') ?? '')) {
    if (jsonDepthExceeds(await c.req.text())) throw jsonTooDeep();
  }
  await next();
};

/**
 * The one app factory (cf. unkey `newApp()`): request id, per-request logger bound to the trace,
 * body limits, services in the context, RFC 9457 errors for everything (never a stack trace),
 * /healthz, /readyz, /openapi.json and the API reference at /docs.
 */
export function createApp<S extends KernelServices>(options: AppOptions<S>): OpenAPIHono<FunctionEnv<S>> {
  const app = new OpenAPIHono<FunctionEnv<S>>({ defaultHook: validationHook as never });
  const services = lazy(options.services).get;

  app.use('*', async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    const log = rootLogger.child({
      function: options.name,
      requestId,
      ...traceFields(c.req.header('x-cloud-trace-context'), process.env.GOOGLE_CLOUD_PROJECT),
    });
    c.set('log', log);
    c.header('x-request-id', requestId);
    const started = performance.now();
    await next();
    const status = c.res.status;
    const fields = { method: c.req.method, path: c.req.path, status, latencyMs: Math.round(performance.now() - started) };
    if (status >= 500) log.error('request failed', fields);
    else log.info('request', fields);
  });

  app.use('*', (c, next) =>
    isObjectLinkPath(c.req.path)
      ? next()
      : bodyLimit({
          maxSize: bodyLimitFor(c.req.path),
          onError: () => {
            throw new HttpProblem(413, 'body-too-large', `the request body is larger than ${bodyLimitFor(c.req.path)} bytes`);
          },
        })(c, next),
  );

  app.use('*', jsonDepthGuard);

  registerHealth(app, options.name, services);

  app.use('*', async (c, next) => {
    const s = await services();
    c.set('services', s);
    c.set('config', s.config);
    c.set('database', s.database);
    await next();
  });

  // Public like /openapi.json: registered before any function's own auth middleware.
  registerDocs(app, options.name);

  app.notFound(notFoundProblem);

  app.onError((err, c) => {
    const requestId = c.get('requestId') ?? randomUUID();
    const { body, headers, internal } = toProblem(err, requestId);
    const log = c.get('log') ?? rootLogger;
    if (internal) log.error('unhandled error', { error: err, path: c.req.path, method: c.req.method });
    else if (body.status >= 500) log.warn('request failed', { status: body.status, code: body.type, detail: body.detail });
    return sendProblem(c, body, headers, isOpenAiPath(c.req.path));
  });

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: `Lattice Lock Cloud — ${options.name}`, version: options.version ?? '0.1.0' },
    ...(options.security ? { security: options.security } : {}),
  });
  return app;
}
