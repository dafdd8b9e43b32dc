import { describe, expect, it } from 'vitest';
import { buildAuthApp } from '../../../functions/auth/app.js';
import { buildJobsApp } from '../../../functions/jobs/app.js';
import { buildProjectsApp } from '../../../functions/projects/app.js';
import { buildProvidersApp } from '../../../functions/providers/app.js';
import { HttpProblem, OpenAiErrorSchema } from '../../../functions/shared/http/index.js';
import { toOpenAiError, toProblem } from '../../../functions/shared/http/problem.js';

/**
 * Every success response of every function documents its body: a 2xx with content has a schema
 * with fields (an object with properties, an array of such, or a text stream), never `{}`.
 * The documents are built from the route definitions alone (no request, no services).
 */
type Schema = Record<string, any>;
type Doc = { paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: Schema }> }> }>>; components?: { schemas?: Record<string, Schema> } };

const never = () => Promise.reject(new Error('not used: the document needs no services'));
const documents: Record<string, Doc> = Object.fromEntries(
  Object.entries({ auth: buildAuthApp, projects: buildProjectsApp, providers: buildProvidersApp, jobs: buildJobsApp }).map(([fn, build]) => [
    fn,
    build(never as never).getOpenAPI31Document({ openapi: '3.1.0', info: { title: fn, version: '0' } }) as unknown as Doc,
  ]),
);

function deref(doc: Doc, schema: Schema | undefined, depth = 0): Schema {
  if (schema?.$ref && depth < 20) return deref(doc, doc.components?.schemas?.[String(schema.$ref).replace('#/components/schemas/', '')], depth + 1);
  return schema ?? {};
}

/** Why a schema says nothing about the body, or undefined when it describes one. */
function emptiness(doc: Doc, raw: Schema | undefined, contentType: string): string | undefined {
  const schema = deref(doc, raw);
  if (contentType === 'text/event-stream') return schema.type === 'string' ? undefined : 'an event stream without a string schema';
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    if (Array.isArray(schema[key]) && schema[key].length) return schema[key].every((s: Schema) => emptiness(doc, s, contentType)) ? `${key} of empty schemas` : undefined;
  }
  if (schema.type === 'array') return emptiness(doc, schema.items, contentType) && 'an array of empty items';
  if (schema.type === 'object' || schema.type === undefined) {
    // `additionalProperties: {}` (zod's looseObject) says any field may come, not which: still empty.
    const extra = schema.additionalProperties;
    const describedExtra = extra && typeof extra === 'object' && !emptiness(doc, extra, contentType);
    return Object.keys(schema.properties ?? {}).length || describedExtra ? undefined : 'an object without properties';
  }
  return undefined; // a scalar is a described body
}

describe('OpenAPI: every 2xx response has a real schema', () => {
  for (const [fn, doc] of Object.entries(documents)) {
    it(`${fn}: no success response is an empty schema`, () => {
      const empty: string[] = [];
      let described = 0;
      for (const [path, item] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(item)) {
          for (const [status, response] of Object.entries(op.responses ?? {})) {
            if (!/^2\d\d$/.test(status)) continue;
            if (!response.content) {
              if (status !== '204') empty.push(`${method.toUpperCase()} ${path} ${status}: no content`);
              continue;
            }
            for (const [type, media] of Object.entries(response.content)) {
              const why = emptiness(doc, media.schema, type);
              if (why) empty.push(`${method.toUpperCase()} ${path} ${status} ${type}: ${why}`);
              else described++;
            }
          }
        }
      }
      expect(empty).toEqual([]);
      expect(described).toBeGreaterThan(0);
    });
  }

  it('the check itself flags an empty object and accepts one with fields', () => {
    const doc: Doc = { paths: {}, components: { schemas: { Empty: { type: 'object' }, Loose: { type: 'object', properties: {}, additionalProperties: {} }, Full: { type: 'object', properties: { id: { type: 'string' } } } } } };
    expect(emptiness(doc, { $ref: '#/components/schemas/Empty' }, 'application/json')).toBe('an object without properties');
    expect(emptiness(doc, { type: 'array', items: { $ref: '#/components/schemas/Empty' } }, 'application/json')).toBe('an array of empty items');
    expect(emptiness(doc, { $ref: '#/components/schemas/Loose' }, 'application/json')).toBe('an object without properties');
    expect(emptiness(doc, { type: 'object', additionalProperties: { $ref: '#/components/schemas/Full' } }, 'application/json')).toBeUndefined();
    expect(emptiness(doc, { $ref: '#/components/schemas/Full' }, 'application/json')).toBeUndefined();
  });
});

describe('OpenAPI: every error response of the OpenAI-compatible routes (/v1/) has their real schema', () => {
  it('providers: each 4xx/5xx of a /v1/ operation is application/json with the OpenAI error object', () => {
    const doc = documents.providers!;
    const wrong: string[] = [];
    let described = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!path.startsWith('/v1/')) continue;
      for (const [method, op] of Object.entries(item)) {
        for (const [status, response] of Object.entries(op.responses ?? {})) {
          if (!/^[45]\d\d$/.test(status)) continue;
          const name = `${method.toUpperCase()} ${path} ${status}`;
          const types = Object.keys(response.content ?? {});
          // /v1/ errors are sent as application/json (sendProblem), never problem+json.
          if (types.join() !== 'application/json') wrong.push(`${name}: content ${types.join() || 'none'}`);
          const media = response.content?.['application/json'];
          const why = emptiness(doc, media?.schema, 'application/json');
          if (why) wrong.push(`${name}: ${why}`);
          else if (!deref(doc, media?.schema).properties?.error) wrong.push(`${name}: no OpenAI error object`);
          else described++;
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(described).toBeGreaterThanOrEqual(20);
  });

  it('the schema holds what the gateway sends (toOpenAiError of a problem, extensions included)', () => {
    const sent = [
      new HttpProblem(429, 'quota-exceeded', 'daily token limit reached', { limit: { scope: 'user', period: 'daily' } }),
      new HttpProblem(404, 'model-not-found', 'no such model', { openai_code: 'model_not_found' }),
      new HttpProblem(422, 'validation-failed', 'bad body', { errors: [{ path: 'messages', message: 'required' }] }),
      new HttpProblem(504, 'upstream-timeout', 'openai did not answer in time'),
    ].map((p) => toOpenAiError(toProblem(p, 'req-1').body));
    for (const body of sent) expect(OpenAiErrorSchema.safeParse(body).success, JSON.stringify(body)).toBe(true);
    expect(OpenAiErrorSchema.safeParse({ type: 'x', title: 'x', status: 400, detail: 'x', instance: 'x' }).success).toBe(false);
  });
});
