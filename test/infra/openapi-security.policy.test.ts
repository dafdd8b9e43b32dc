import { describe, expect, it } from 'vitest';
import { buildAuthApp } from '../../functions/auth/app.js';
import { buildJobsApp } from '../../functions/jobs/app.js';
import { buildProjectsApp } from '../../functions/projects/app.js';
import { buildProvidersApp } from '../../functions/providers/app.js';
import { schedulerVerifier } from '../../functions/jobs/service/oidc.js';
import { testConfig } from '../support/app.js';

/**
 * A route that forgets `...signedIn(...)` must not silently become public: every operation of every
 * function's OpenAPI document declares the security it needs (its own `security`, or the document's
 * default), unless it is in its function's short, explicit public list below. A route that needs a
 * caller declares it the one declarative way (signedIn in createRoute), which sets the document's
 * `security` and the middleware together, so the document is the proof of the check.
 */
type Operation = { security?: Record<string, string[]>[] };
type Doc = { paths: Record<string, Record<string, Operation>>; security?: Record<string, string[]>[]; components?: { securitySchemes?: Record<string, unknown> } };

const PUBLIC: Record<string, string[]> = {
  // Before a session exists: the token in the body is the credential (verification, refresh, logout,
  // reset), or there is none yet (sign-up, sign-in, its second factor, asking for a reset).
  auth: ['POST /register', 'POST /email/verify', 'POST /login', 'POST /login/mfa', 'POST /token/refresh', 'POST /logout', 'POST /password/forgot', 'POST /password/reset'],
  // The embedded store's artifact-object links carry their own signature; they are not in the document.
  projects: [],
  providers: [],
  jobs: [],
};

/** The documents as served at /openapi.json (with the document-wide default a function sets); the route needs no services. */
const noServices = async () => ({ config: {}, database: {} });
const builders = { auth: buildAuthApp, projects: buildProjectsApp, providers: buildProvidersApp, jobs: buildJobsApp };
const documents: Record<string, Doc> = Object.fromEntries(
  await Promise.all(Object.entries(builders).map(async ([fn, build]) => [fn, (await (await build(noServices as never).request('/openapi.json')).json()) as Doc])),
);

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/** Operations ("POST /path") without a security requirement, and requirements naming an undeclared scheme. */
export function unsecured(doc: Doc): { open: string[]; undeclared: string[] } {
  const open: string[] = [];
  const undeclared: string[] = [];
  const schemes = new Set(Object.keys(doc.components?.securitySchemes ?? {}));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      const security = op.security ?? doc.security;
      const name = `${method.toUpperCase()} ${path}`;
      // An empty list, or one holding `{}`, makes the operation public (OpenAPI 3.1 §4.8.10).
      if (!security?.length || security.some((s) => Object.keys(s).length === 0)) open.push(name);
      for (const s of security ?? []) for (const scheme of Object.keys(s)) if (!schemes.has(scheme)) undeclared.push(`${name}: ${scheme}`);
    }
  }
  return { open, undeclared };
}

describe('OpenAPI: no operation is public by omission', () => {
  for (const [fn, doc] of Object.entries(documents)) {
    it(`${fn}: every operation declares its security, or is on the public list`, () => {
      const { open, undeclared } = unsecured(doc);
      expect(open.filter((op) => !PUBLIC[fn]!.includes(op))).toEqual([]);
      expect(undeclared).toEqual([]);
      expect(Object.keys(doc.paths).length).toBeGreaterThan(0);
    });

    it(`${fn}: the public list names only operations that exist and are public`, () => {
      const { open } = unsecured(doc);
      expect(PUBLIC[fn]!.filter((op) => !open.includes(op))).toEqual([]);
    });
  }

  it('the check itself flags a missing, empty or optional requirement and an undeclared scheme', () => {
    const doc: Doc = {
      paths: { '/a': { get: {}, post: { security: [] }, put: { security: [{}, { bearer: [] }] }, patch: { security: [{ bearer: [] }] }, delete: { security: [{ other: [] }] } } },
      components: { securitySchemes: { bearer: {} } },
    };
    expect(unsecured(doc)).toEqual({ open: ['GET /a', 'POST /a', 'PUT /a'], undeclared: ['DELETE /a: other'] });
    expect(unsecured({ ...doc, security: [{ bearer: [] }] }).open).toEqual(['POST /a', 'PUT /a']);
  });
});

/**
 * The document is what the routes declare; this is what they do: every documented operation that is
 * not public answers 401 to a request without credentials (before its body or parameters are read),
 * and so does the one gateway route kept out of the document (/v1/models/{id}: a model id holds '/').
 */
describe('what runs: no credential, no answer', () => {
  const UUID = '00000000-0000-4000-8000-000000000000';
  // The jobs routes verify through their services: the real verifier (service/oidc.ts) with the test configuration.
  const jobsServices = async () => ({ config: {}, database: {}, verifyScheduler: schedulerVerifier(testConfig()) });
  const apps = Object.fromEntries(Object.entries(builders).map(([fn, build]) => [fn, build((fn === 'jobs' ? jobsServices : noServices) as never)]));
  for (const [fn, doc] of Object.entries(documents)) {
    it(`${fn}: every operation off the public list answers 401 without credentials`, async () => {
      const answered: string[] = [];
      for (const [path, item] of Object.entries(doc.paths)) {
        for (const method of Object.keys(item).filter((m) => METHODS.has(m))) {
          const name = `${method.toUpperCase()} ${path}`;
          if (PUBLIC[fn]!.includes(name)) continue;
          const url = path.replace(/\{[^}]+\}/g, UUID);
          const res = await apps[fn]!.request(url, { method: method.toUpperCase(), headers: { 'content-type': 'application/json' }, body: ['get', 'head', 'delete'].includes(method) ? undefined : '{}' });
          if (res.status !== 401) answered.push(`${name}: ${res.status}`);
        }
      }
      expect(answered).toEqual([]);
    });
  }

  it('providers: GET /v1/models/{id} (outside the document) answers 401 without credentials', async () => {
    expect((await apps.providers!.request('/v1/models/openai/gpt-4o-mini')).status).toBe(401);
  });
});
