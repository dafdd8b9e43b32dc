import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { expectedVersion, jsonBody, setEtag } from '../../shared/http/index.js';
import type { ProjectsEnv } from '../app.js';
import * as svc from '../service/policies.js';
import { PolicySchema, policyOut } from './shapes.js';
import { errors, idParams, listOf, listQuery, lockErrors, ok, pageOut, signedIn, text, tx, uuid } from './support.js';

/**
 * OPA policies are stored and served as rego source; they are not evaluated here (no maintained
 * pure-JavaScript rego evaluator exists: OPA's own JS path needs policies compiled to wasm by the
 * opa CLI). The one check is structural: rego must declare its package.
 */
const rego = z
  .string()
  .min(1)
  .max(256 * 1024)
  .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters')
  .refine((s) => /^\s*package\s+[A-Za-z_][\w.]*/m.test(s), 'rego must declare a package, e.g. "package lattice.example"');

const CreatePolicyBody = z.object({ name: text(200), description: text(2000, 0).nullable().optional(), rego }).strict().openapi('CreatePolicy');
const PatchPolicyBody = z
  .object({ name: text(200).optional(), description: text(2000, 0).nullable().optional(), rego: rego.optional() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field')
  .openapi('PatchPolicy');
const LinkBody = z.object({ policy_id: uuid }).strict().openapi('LinkPolicy');

const createPolicy = createRoute({ method: 'post', path: '/policies', tags: ['policies'], ...signedIn({ role: 'member' }), request: { body: jsonBody(CreatePolicyBody) }, responses: { 201: ok(PolicySchema, 'Created'), ...errors } });
const listPolicies = createRoute({ method: 'get', path: '/policies', tags: ['policies'], ...signedIn({ role: 'viewer' }), request: { query: listQuery }, responses: { 200: ok(listOf(PolicySchema)), ...errors } });
const getPolicy = createRoute({ method: 'get', path: '/policies/{id}', tags: ['policies'], ...signedIn({ role: 'viewer' }), request: { params: idParams }, responses: { 200: ok(PolicySchema), ...errors } });
const patchPolicy = createRoute({ method: 'patch', path: '/policies/{id}', tags: ['policies'], ...signedIn({ role: 'member' }), request: { params: idParams, body: jsonBody(PatchPolicyBody) }, responses: { 200: ok(PolicySchema, 'The new revision'), ...lockErrors } });
const deletePolicy = createRoute({ method: 'delete', path: '/policies/{id}', tags: ['policies'], ...signedIn({ role: 'admin' }), request: { params: idParams }, responses: { 204: { description: 'Deleted (soft)' }, ...lockErrors } });
const listProjectPolicies = createRoute({ method: 'get', path: '/projects/{id}/policies', tags: ['policies'], ...signedIn({ role: 'viewer' }), request: { params: idParams }, responses: { 200: ok(z.object({ items: z.array(PolicySchema) })), ...errors } });
const linkPolicy = createRoute({ method: 'post', path: '/projects/{id}/policies', tags: ['policies'], ...signedIn({ role: 'member' }), request: { params: idParams, body: jsonBody(LinkBody) }, responses: { 201: ok(PolicySchema, 'Linked'), ...errors } });
const unlinkPolicy = createRoute({ method: 'delete', path: '/projects/{id}/policies/{pid}', tags: ['policies'], ...signedIn({ role: 'member' }), request: { params: z.object({ id: uuid, pid: uuid }) }, responses: { 204: { description: 'Unlinked' }, ...errors } });

export function registerPolicies(app: OpenAPIHono<ProjectsEnv>): void {
  app.openapi(createPolicy, async (c) => {
    const row = await tx(c, (tx, t) => svc.createPolicy(tx, t, c.req.valid('json')));
    setEtag(c, row.version);
    return c.json(policyOut(row), 201);
  });

  app.openapi(listPolicies, async (c) => {
    const res = await tx(c, (tx, t) => svc.listPolicies(tx, t, c.req.valid('query')));
    return c.json(pageOut(res, policyOut), 200);
  });

  app.openapi(getPolicy, async (c) => {
    const row = await tx(c, (tx, t) => svc.requirePolicy(tx, t, c.req.valid('param').id));
    setEtag(c, row.version);
    return c.json(policyOut(row), 200);
  });

  app.openapi(patchPolicy, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const expected = expectedVersion(c);
    const row = await tx(c, (tx, t) => svc.updatePolicy(tx, t, { policyId: id, expectedVersion: expected, patch: body }));
    setEtag(c, row.version);
    return c.json(policyOut(row), 200);
  });

  app.openapi(deletePolicy, async (c) => {
    const { id } = c.req.valid('param');
    const expected = expectedVersion(c);
    await tx(c, (tx, t) => svc.deletePolicy(tx, t, { policyId: id, expectedVersion: expected }));
    return c.body(null, 204);
  });

  app.openapi(listProjectPolicies, async (c) => {
    const rows = await tx(c, (tx, t) => svc.projectPolicyList(tx, t, c.req.valid('param').id));
    return c.json({ items: rows.map(policyOut) }, 200);
  });

  app.openapi(linkPolicy, async (c) => {
    const { id } = c.req.valid('param');
    const row = await tx(c, (tx, t) => svc.linkPolicy(tx, t, { projectId: id, policyId: c.req.valid('json').policy_id }));
    return c.json(policyOut(row), 201);
  });

  app.openapi(unlinkPolicy, async (c) => {
    const { id, pid } = c.req.valid('param');
    await tx(c, (tx, t) => svc.unlinkPolicy(tx, t, { projectId: id, policyId: pid }));
    return c.body(null, 204);
  });
}
