import { z } from '@hono/zod-openapi';

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

/**
 * An error under /v1/ (sendProblem's OpenAI shape, problem.ts toOpenAiError): OpenAI's `error` object,
 * which the OpenAI SDKs read, then the problem's own fields (and any extension such as `limit`).
 */
export const OpenAiErrorSchema = z
  .looseObject({
    error: z.object({
      message: z.string(),
      type: z.string().openapi({ enum: ['invalid_request_error', 'authentication_error', 'permission_error', 'not_found_error', 'rate_limit_error', 'api_error'] }),
      code: z.string(),
      param: z.string().nullable(),
    }),
    ...ProblemSchema.shape,
  })
  .openapi('OpenAiError');

/**
 * The route kit every function builds its routes from (createRoute's `request` and `responses`):
 * one way to write a JSON response, an error response, a 204, a list envelope and an id parameter.
 */

/** An RFC 9457 error response. */
export const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ProblemSchema } } });

/** An error response of an OpenAI-compatible route (/v1/): `application/json`, OpenAiErrorSchema. */
export const openAiProblem = (description: string) => ({ description, content: { 'application/json': { schema: OpenAiErrorSchema } } });

/** A JSON response with its schema (every 2xx has a real one: test/shared/http/openapi-schemas.policy.test.ts). */
export const ok = <T extends z.ZodType>(schema: T, description = 'OK') => ({ description, content: { 'application/json': { schema } } });

/** `responses: { ...noContent, ...problemResponses }` for a 204. */
export const noContent = { 204: { description: 'No content' } } as const;

/** The list envelope of every paged collection (`next_cursor` null on the last page; see pagination.ts). */
export const listOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), next_cursor: z.string().nullable() });

/** `/{id}` of a resource: a UUID (another tenant's id answers 404 like an unknown one). */
export const idParams = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });

/** The error responses most routes share, for `createRoute({ responses: { 200: …, ...problemResponses } })`. */
export const problemResponses = {
  400: problem('Malformed request'),
  401: problem('Missing or invalid credentials'),
  403: problem('Role does not allow this'),
  404: problem('Not found (or another tenant\'s)'),
  422: problem('Body, query or path failed validation'),
} as const;

/** problemResponses of the OpenAI-compatible routes, in the shape they are sent. */
export const openAiProblemResponses = {
  400: openAiProblem('Malformed request'),
  401: openAiProblem('Missing or invalid credentials'),
  403: openAiProblem('Role or API key scope does not allow this'),
  404: openAiProblem('Not found (or another tenant\'s)'),
  422: openAiProblem('Body, query or path failed validation'),
} as const;

/** Error responses some routes add to problemResponses, described once. */
export const moreProblems = {
  409: problem('Conflicts with the current state'),
  412: problem('If-Match does not match the current ETag'),
  415: problem('Body is not application/json'),
  428: problem('If-Match is required'),
  429: problem('Rate limited (Retry-After)'),
} as const;

/** A required JSON body: other content types answer 415, bad JSON 400, schema failures 422. */
export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
  return { required: true, description, content: { 'application/json': { schema } } } as const;
}
