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

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ProblemSchema } } });

/** The error responses most routes share, for `createRoute({ responses: { 200: …, ...problemResponses } })`. */
export const problemResponses = {
  400: problem('Malformed request'),
  401: problem('Missing or invalid credentials'),
  403: problem('Role does not allow this'),
  404: problem('Not found (or another tenant\'s)'),
  422: problem('Body, query or path failed validation'),
} as const;

/** A required JSON body: other content types answer 415, bad JSON 400, schema failures 422. */
export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
  return { required: true, description, content: { 'application/json': { schema } } } as const;
}
