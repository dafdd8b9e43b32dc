import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { userRoles } from '../../../drizzle/schema/roles.js';
import { jsonBody } from '../../shared/http/openapi.js';
import { paginationQuery } from '../../shared/http/pagination.js';
import type { AuthEnv } from '../app.js';
import { inTenant } from '../../shared/http/transactions.js';
import { createInvitation, createOrganization } from '../flows/invitations.js';
import { clientInfo } from '../service/client.js';
import { listInvitations, revokeInvitation } from '../service/invitations.js';
import { emailField } from '../service/policy.js';
import { signedIn } from '../../shared/http/auth.js';
import { errors, idParams, listOf, noContent, ok } from './support.js';

const InvitationSchema = z
  .object({
    id: z.string().uuid(),
    email: z.string().nullable(),
    role: z.enum(userRoles),
    status: z.enum(['pending', 'used', 'revoked', 'expired']),
    expires_at: z.string(),
    used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('Invitation');

const createRouteDef = createRoute({
  method: 'post',
  path: '/invitations',
  tags: ['invitations'],
  ...signedIn({ role: 'admin' }),
  request: { body: jsonBody(z.object({ email: emailField.optional(), role: z.enum(['admin', 'member', 'viewer']) }).openapi('CreateInvitation')) },
  responses: { 201: ok(InvitationSchema.extend({ invitation_code: z.string(), mailed: z.boolean() }), 'Created; the code is shown only here (and mailed to `email` when one is given)'), ...errors },
});

const listRoute = createRoute({
  method: 'get',
  path: '/invitations',
  tags: ['invitations'],
  ...signedIn({ role: 'admin' }),
  request: { query: paginationQuery },
  responses: { 200: ok(listOf(InvitationSchema)), ...errors },
});

const revokeRoute = createRoute({
  method: 'delete',
  path: '/invitations/{id}',
  tags: ['invitations'],
  ...signedIn({ role: 'admin' }),
  request: { params: idParams },
  responses: { ...noContent, ...errors },
});

const orgRoute = createRoute({
  method: 'post',
  path: '/organizations',
  tags: ['organizations'],
  ...signedIn(),
  request: {
    body: jsonBody(
      z.object({
        name: z.string().trim().min(1).max(200),
        slug: z.string().min(1).max(63).regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'lower-case letters, digits and inner hyphens').optional(),
      }),
    ),
  },
  responses: {
    201: ok(
      z.object({
        organization: z.object({ id: z.string().uuid(), name: z.string(), slug: z.string(), created_at: z.string() }),
        invitation_code: z.string(),
        invitation: InvitationSchema,
      }),
      'Created, with the owner invitation code (shown only here)',
    ),
    ...errors,
  },
});

export function registerInvitations(app: OpenAPIHono<AuthEnv>): void {
  app.openapi(createRouteDef, async (c) => c.json(await createInvitation(c, c.req.valid('json')), 201));
  app.openapi(listRoute, async (c) => c.json(await inTenant(c, (tx, t) => listInvitations(tx, t, c.req.valid('query'))), 200));
  app.openapi(revokeRoute, async (c) => {
    await inTenant(c, (tx, t) => revokeInvitation(tx, t, c.req.valid('param').id, clientInfo(c)));
    return c.body(null, 204);
  });
  app.openapi(orgRoute, async (c) => c.json(await createOrganization(c, c.req.valid('json')), 201));
}
