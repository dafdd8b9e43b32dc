import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ZodError } from 'zod';

/** RFC 9457 problem details; `errors[]` lists every validation issue. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  423: 'Locked',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export const problemType = (code: string) => `urn:lattice-lock:problem:${code}`;

/**
 * The one error class services and routes throw. `code` is stable and machine-readable
 * (it becomes the problem `type`); `detail` is for humans and never carries secrets.
 */
export class HttpProblem extends Error {
  override name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly extra: { errors?: ProblemBody['errors']; headers?: Record<string, string>; [k: string]: unknown } = {},
  ) {
    super(detail);
  }
}

/**
 * A function's error catalog (its `errors.ts`): every stable code it raises, as a named factory of the
 * problem with its status, so services throw `catalog.entry(…)` and never build a code inline.
 */
export type ErrorCatalog = Record<string, (...args: any[]) => HttpProblem>;

/** A catalog entry whose detail is written where it is raised; status and code are fixed here. */
export const problemOf =
  (status: number, code: string) =>
  (detail: string, extra: HttpProblem['extra'] = {}): HttpProblem =>
    new HttpProblem(status, code, detail, extra);

export const problems = {
  badRequest: (detail: string, code = 'bad-request') => new HttpProblem(400, code, detail),
  unauthorized: (detail = 'authentication required', code = 'unauthorized') =>
    new HttpProblem(401, code, detail, { headers: { 'WWW-Authenticate': 'Bearer' } }),
  forbidden: (detail = 'your role does not allow this action', code = 'forbidden') => new HttpProblem(403, code, detail),
  notFound: (what = 'resource') => new HttpProblem(404, 'not-found', `${what} not found`),
  conflict: (detail: string, code = 'conflict') => new HttpProblem(409, code, detail),
  preconditionFailed: (detail = 'the resource changed since you read it (ETag mismatch)') =>
    new HttpProblem(412, 'precondition-failed', detail),
  preconditionRequired: (detail = 'send If-Match with the ETag you read') => new HttpProblem(428, 'precondition-required', detail),
  tooMany: (detail: string, retryAfterSeconds: number, code = 'rate-limited') =>
    new HttpProblem(429, code, detail, { headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) } }),
  unavailable: (detail: string, retryAfterSeconds = 1) =>
    new HttpProblem(503, 'unavailable', detail, { headers: { 'Retry-After': String(retryAfterSeconds) } }),
  /** The instance is draining (SIGTERM or a crash): what framework.ts answers new requests, for calls caught waiting. */
  shuttingDown: () => new HttpProblem(503, 'shutting-down', 'this instance is shutting down; retry the request', { headers: { 'Retry-After': '1', connection: 'close' } }),
};

export function zodIssues(error: ZodError): NonNullable<ProblemBody['errors']> {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(root)', message: issue.message }));
}

export function toProblem(err: unknown, instance: string): { body: ProblemBody; headers: Record<string, string>; internal: boolean } {
  if (err instanceof HttpProblem) {
    const { headers = {}, ...extensions } = err.extra;
    return { body: build(err.status, err.code, err.message, instance, extensions), headers, internal: false };
  }
  if (err instanceof ZodError) {
    return { body: build(422, 'validation-failed', 'the request does not match its schema', instance, { errors: zodIssues(err) }), headers: {}, internal: false };
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    const detail =
      status === 400 ? 'the request body is not valid JSON'
      : status === 413 ? 'the request body is too large'
      : status === 415 ? 'send the body as application/json'
      : err.message || TITLES[status] || 'error';
    const code = status === 400 ? 'malformed-json' : status === 413 ? 'body-too-large' : status === 415 ? 'unsupported-media-type' : `http-${status}`;
    return { body: build(status, code, detail, instance), headers: {}, internal: false };
  }
  return { body: build(500, 'internal', 'an unexpected error occurred; quote the instance id when reporting it', instance), headers: {}, internal: true };
}

function build(status: number, code: string, detail: string, instance: string, extensions: Record<string, unknown> = {}): ProblemBody {
  return { type: problemType(code), title: TITLES[status] ?? 'Error', status, detail, instance, ...extensions };
}

/**
 * OpenAI SDKs read `error.{message,type,code,param}`; the problem members sit beside it. A problem may
 * carry `openai_code` (e.g. `context_length_exceeded` from the provider) to give SDKs OpenAI's own code.
 */
export function toOpenAiError(body: ProblemBody): Record<string, unknown> {
  const type =
    body.status === 401 ? 'authentication_error'
    : body.status === 403 ? 'permission_error'
    : body.status === 404 ? 'not_found_error'
    : body.status === 429 ? 'rate_limit_error'
    : body.status >= 500 ? 'api_error'
    : 'invalid_request_error';
  const code = typeof body.openai_code === 'string' ? body.openai_code : body.type.replace('urn:lattice-lock:problem:', '');
  const param = body.errors?.[0]?.path ?? (typeof body.param === 'string' ? body.param : null);
  return { error: { message: body.detail, type, code, param }, ...body };
}

export function sendProblem(c: Context, body: ProblemBody, headers: Record<string, string> = {}, openAi = false): Response {
  const payload = openAi ? toOpenAiError(body) : body;
  return new Response(JSON.stringify(payload), {
    status: body.status as ContentfulStatusCode,
    headers: { 'content-type': openAi ? 'application/json' : 'application/problem+json', ...headers },
  });
}
