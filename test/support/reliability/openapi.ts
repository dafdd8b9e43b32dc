import { randomBytes, randomUUID } from 'node:crypto';

/** Just enough of OpenAPI 3.1 to walk every operation and build requests for it. */
export type Schema = Record<string, any>;
export interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}
export interface Operation {
  parameters?: { name: string; in: 'path' | 'query' | 'header' | 'cookie'; required?: boolean; schema?: Schema }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, unknown>;
}

export interface Route {
  fn: string;
  method: string;
  /** OpenAPI template, e.g. /projects/{id}/errors/{eid}/resolve */
  template: string;
  op: Operation;
  pathParams: string[];
  bodySchema?: Schema;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/** Served by the kernel for every function and not part of the function's own contract. */
const KERNEL = new Set(['/healthz', '/readyz', '/openapi.json']);

export function routesOf(fn: string, doc: OpenApiDoc): Route[] {
  const routes: Route[] = [];
  for (const [template, item] of Object.entries(doc.paths ?? {})) {
    if (KERNEL.has(template)) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const pathParams = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
      const bodySchema = op.requestBody?.content?.['application/json']?.schema;
      routes.push({ fn, method: method.toUpperCase(), template, op, pathParams, bodySchema: bodySchema ? deref(doc, bodySchema) : undefined });
    }
  }
  return routes;
}

export const isV1 = (path: string) => /(^|\/)v1\//.test(path);

/** Resolves $ref (recursively, one level at a time as the walkers need it). */
export function deref(doc: OpenApiDoc, schema: Schema | undefined, seen = 0): Schema {
  if (!schema) return {};
  if (schema.$ref && seen < 20) {
    const name = String(schema.$ref).replace('#/components/schemas/', '');
    return deref(doc, doc.components?.schemas?.[name], seen + 1);
  }
  return schema;
}

/** The segment naming the collection a path parameter belongs to: /projects/{id} → projects. */
export function collectionOf(template: string, param: string): string {
  const segments = template.split('/').filter(Boolean);
  const at = segments.indexOf(`{${param}}`);
  for (let i = at - 1; i >= 0; i--) if (!segments[i]!.startsWith('{')) return segments[i]!;
  return param;
}

export function fillPath(template: string, values: Record<string, string>): string {
  return template.replace(/\{([^}]+)\}/g, (_, p: string) => encodeURIComponent(values[p] ?? randomUUID()));
}

const firstType = (s: Schema): string | undefined => (Array.isArray(s.type) ? s.type.find((t: string) => t !== 'null') : s.type);

export interface ExampleContext {
  /** An id for a field such as `version_id` or `policy_id`, when one is known. */
  idFor?: (field: string) => string | undefined;
  /** Text to use for free-text fields (the SQL-injection matrix plugs its strings in here). */
  text?: (field: string) => string | undefined;
  /** A fixed value for a member, included even when optional (e.g. base_url → a local fake). */
  override?: (field: string) => unknown;
}

const STRONG_PASSWORD = 'Correct-Horse-Battery-Staple-91';

function stringFor(doc: OpenApiDoc, s: Schema, field: string, ctx: ExampleContext): string {
  const unique = randomBytes(4).toString('hex');
  if (s.format === 'uuid' || /(^|_)id$/.test(field)) return ctx.idFor?.(field) ?? randomUUID();
  if (s.format === 'email' || field === 'email') return `rel-${unique}@example.test`;
  if (s.format === 'date-time') return new Date(Date.now() + 86_400_000).toISOString();
  if (s.format === 'date') return new Date().toISOString().slice(0, 10);
  if (s.format === 'uri' || s.format === 'url' || /url$/.test(field)) return 'https://example.test/v1';
  if (/password/.test(field)) return STRONG_PASSWORD;
  if (field === 'config_hash') return randomBytes(32).toString('hex');
  const custom = ctx.text?.(field);
  const min = s.minLength ?? 1;
  const max = s.maxLength ?? 200;
  const candidates = [
    ...(custom !== undefined ? [custom] : []),
    `rel-${unique}`,
    `Rel ${unique}`,
    unique,
    'a'.repeat(Math.max(min, 1)),
    '1'.repeat(Math.max(min, 1)),
  ];
  const pattern = s.pattern ? new RegExp(s.pattern, 'u') : undefined;
  return candidates.find((c) => c.length >= min && c.length <= max && (!pattern || pattern.test(c))) ?? candidates[0]!;
}

/**
 * A value that should pass the schema: required members (all members when none is required),
 * enums' first value, numbers at their minimum, strings shaped by format, pattern and length.
 */
export function exampleOf(doc: OpenApiDoc, schema: Schema | undefined, ctx: ExampleContext = {}, field = '', depth = 0): unknown {
  const s = deref(doc, schema);
  if (depth > 8) return null;
  const forced = field ? ctx.override?.(field) : undefined;
  if (forced !== undefined) return forced;
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.enum)) return s.enum.find((v: unknown) => v !== null) ?? s.enum[0];
  if (s.default !== undefined && typeof s.default !== 'object') return s.default;
  for (const key of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(s[key])) {
      const option = s[key].map((o: Schema) => deref(doc, o)).find((o: Schema) => firstType(o) !== 'null' && o.type !== 'null') ?? s[key][0];
      return exampleOf(doc, option, ctx, field, depth + 1);
    }
  }
  if (Array.isArray(s.allOf)) return Object.assign({}, ...s.allOf.map((o: Schema) => exampleOf(doc, o, ctx, field, depth + 1)));
  switch (firstType(s)) {
    case 'string':
      return stringFor(doc, s, field, ctx);
    case 'integer':
    case 'number': {
      const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : undefined);
      const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : undefined);
      const value = min ?? (max !== undefined ? Math.min(1, max) : 1);
      return firstType(s) === 'integer' ? Math.ceil(value) : value;
    }
    case 'boolean':
      return false;
    case 'array': {
      const n = s.minItems ?? 0;
      return Array.from({ length: n }, () => exampleOf(doc, s.items, ctx, field, depth + 1));
    }
    case 'object':
    default: {
      const props: Record<string, Schema> = s.properties ?? {};
      const required: string[] = s.required ?? [];
      const keys: string[] = required.length ? [...required] : Object.keys(props);
      for (const k of Object.keys(props)) if (!keys.includes(k) && ctx.override?.(k) !== undefined) keys.push(k);
      const out: Record<string, unknown> = {};
      for (const k of keys) out[k] = exampleOf(doc, props[k], ctx, k, depth + 1);
      return out;
    }
  }
}

/** Free-text members of a body schema (strings without format, enum or pattern), by name. */
export function textFields(doc: OpenApiDoc, schema: Schema | undefined): string[] {
  const s = deref(doc, schema);
  const props: Record<string, Schema> = s.properties ?? {};
  return Object.entries(props)
    .filter(([name, p]) => {
      const d = deref(doc, p);
      const option = d.anyOf ? deref(doc, d.anyOf.find((o: Schema) => o.type !== 'null')) : d;
      return firstType(option) === 'string' && !option.format && !option.enum && !option.pattern && !/(^|_)id$|email|password|url|hash|token|code|slug/.test(name);
    })
    .map(([name]) => name);
}
