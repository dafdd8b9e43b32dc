import { describe, expect, it } from 'vitest';
import { bootstrapFirstOrganization } from '../../functions/auth/service/bootstrap.js';
import { call } from '../support/app.js';
import { authHarness, expectProblemShape, PASSWORD } from '../support/auth.js';

const h = await authHarness();

describe('registration, organizations, invitations, /me, /audit', () => {
  it('the bootstrap invitation makes the first user an owner and platform admin, who creates organizations', async () => {
    const first = await bootstrapFirstOrganization(h.database);
    expect(first).toBeDefined();
    const reg = await call(h.app, 'POST', '/register', {
      body: { invitation_code: first!.invitationCode, email: 'Founder@Example.test', password: PASSWORD, name: 'Founder' },
    });
    expect(reg.status).toBe(201);
    expect(reg.json).toMatchObject({ org_id: first!.organizationId, role: 'owner', is_platform_admin: true, mfa_enabled: false, email: 'Founder@Example.test' });
    expect(reg.json).not.toHaveProperty('password_hash');
    // Single use.
    const again = await call(h.app, 'POST', '/register', { body: { invitation_code: first!.invitationCode, email: 'second@example.test', password: PASSWORD, name: 'X' } });
    expectProblemShape(again, 400, 'invalid-invitation');

    // Email is matched case-insensitively at login.
    const login = await call(h.app, 'POST', '/login', { body: { email: 'founder@example.TEST', password: PASSWORD } });
    expect(login.status).toBe(200);
    const me = await call(h.app, 'GET', '/me', { token: login.json.access_token });
    expect(me.json).toMatchObject({ id: reg.json.id, is_platform_admin: true });

    const org = await call(h.app, 'POST', '/organizations', { token: login.json.access_token, body: { name: 'Acme Research' } });
    expect(org.status).toBe(201);
    expect(org.json.organization).toMatchObject({ name: 'Acme Research', slug: expect.stringMatching(/^acme-research-/) });
    const owner = await call(h.app, 'POST', '/register', { body: { invitation_code: org.json.invitation_code, email: 'owner@acme.test', password: PASSWORD, name: 'Owner' } });
    expect(owner.json).toMatchObject({ org_id: org.json.organization.id, role: 'owner', is_platform_admin: false });
  });

  it('only platform admins create organizations', async () => {
    const u = await h.user({ role: 'owner' });
    expectProblemShape(await call(h.app, 'POST', '/organizations', { token: u.token, body: { name: 'Nope' } }), 403);
  });

  it('admins invite, list and revoke; members cannot; another org’s invitation answers 404', async () => {
    const admin = await h.user({ role: 'admin' });
    const created = await call(h.app, 'POST', '/invitations', { token: admin.token, body: { role: 'member', email: 'new@example.test' } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id: expect.any(String), invitation_code: expect.stringMatching(/^inv_/), role: 'member', status: 'pending', email: 'new@example.test' });
    const second = await call(h.app, 'POST', '/invitations', { token: admin.token, body: { role: 'viewer' } });
    const page1 = await call(h.app, 'GET', '/invitations?limit=1', { token: admin.token });
    expect(page1.json.items.map((i: any) => i.id)).toEqual([second.json.id]);
    expect(page1.json.items[0]).not.toHaveProperty('invitation_code');
    const page2 = await call(h.app, 'GET', `/invitations?limit=1&cursor=${page1.json.next_cursor}`, { token: admin.token });
    expect(page2.json.items.map((i: any) => i.id)).toEqual([created.json.id]);

    // An invitation for an address admits only that address.
    const wrongAddress = await call(h.app, 'POST', '/register', { body: { invitation_code: created.json.invitation_code, email: 'other@example.test', password: PASSWORD, name: 'O' } });
    expectProblemShape(wrongAddress, 400, 'invalid-invitation');
    const member = await call(h.app, 'POST', '/register', { body: { invitation_code: created.json.invitation_code, email: 'NEW@example.test', password: PASSWORD, name: 'New' } });
    expect(member.json).toMatchObject({ role: 'member', org_id: admin.orgId, email_verified_at: expect.any(String) });

    const outsider = await h.user({ role: 'admin' });
    expectProblemShape(await call(h.app, 'DELETE', `/invitations/${second.json.id}`, { token: outsider.token }), 404);
    expect((await call(h.app, 'DELETE', `/invitations/${second.json.id}`, { token: admin.token })).status).toBe(204);
    expectProblemShape(await call(h.app, 'DELETE', `/invitations/${second.json.id}`, { token: admin.token }), 409, 'invitation-not-pending');
    const revokedUse = await call(h.app, 'POST', '/register', { body: { invitation_code: second.json.invitation_code, email: 'v@example.test', password: PASSWORD, name: 'V' } });
    expectProblemShape(revokedUse, 400, 'invalid-invitation');

    const plain = await h.user({ role: 'member' });
    expectProblemShape(await call(h.app, 'POST', '/invitations', { token: plain.token, body: { role: 'member' } }), 403);
    expectProblemShape(await call(h.app, 'GET', '/audit', { token: plain.token }), 403);
  });

  it('GET /audit lists the organization’s auth events only, newest first', async () => {
    const admin = await h.user({ role: 'admin' });
    await call(h.app, 'POST', '/login', { body: { email: admin.email, password: 'wrong-password-here' } });
    const audit = await call(h.app, 'GET', '/audit?limit=100', { token: admin.token });
    expect(audit.status).toBe(200);
    const events = audit.json.items.map((e: any) => e.event);
    expect(events[0]).toBe('login_failed');
    expect(events).toContain('registered');
    expect(events).toContain('login_succeeded');
    expect(audit.json.items.every((e: any) => e.user_id === admin.id)).toBe(true);
    const filtered = await call(h.app, 'GET', '/audit?event=registered', { token: admin.token });
    expect(filtered.json.items).toHaveLength(1);
  });
});
