import { describe, expect, it } from 'vitest';
import { call } from '../support/app.js';
import { authHarness, expectProblemShape, PASSWORD } from '../support/auth.js';

const h = await authHarness();
const body = (code: string, over: Record<string, unknown> = {}) => ({ invitation_code: code, email: `e-${Math.random().toString(36).slice(2)}@example.test`, password: PASSWORD, name: 'N', ...over });

describe('registration refusals', () => {
  it.each([
    ['shorter than 12 characters', 'short-pw-1', /at least 12/],
    ['a common password', 'password1234', /too common/],
    ['a repeated character', 'aaaaaaaaaaaaaaaa', /too common/],
  ])('password policy: %s → 422', async (_label, password, message) => {
    const { code } = await h.invitation();
    const res = await call(h.app, 'POST', '/register', { body: body(code, { password }) });
    expectProblemShape(res, 422, 'weak-password');
    expect(res.json.errors[0]).toMatchObject({ path: 'password', message: expect.stringMatching(message) });
  });

  it('password equal to the email → 422', async () => {
    const { code } = await h.invitation();
    const res = await call(h.app, 'POST', '/register', { body: body(code, { email: 'someone.long@example.test', password: 'Someone.Long@example.test' }) });
    expectProblemShape(res, 422, 'weak-password');
  });

  it('unknown and expired codes → 400', async () => {
    expectProblemShape(await call(h.app, 'POST', '/register', { body: body('inv_not-a-real-code') }), 400, 'invalid-invitation');
    const { code } = await h.invitation({ expiresInMs: -1000 });
    expectProblemShape(await call(h.app, 'POST', '/register', { body: body(code) }), 400, 'invalid-invitation');
  });

  it('an email registered in another organization (any case) answers exactly like an unknown code, and spends the code', async () => {
    const first = await h.invitation();
    expect((await call(h.app, 'POST', '/register', { body: body(first.code, { email: 'Taken@Example.test' }) })).status).toBe(201);
    const second = await h.invitation(); // another organization
    const strip = (json: any) => ({ ...json, instance: undefined });
    const taken = await call(h.app, 'POST', '/register', { body: body(second.code, { email: 'taken@example.TEST' }) });
    const unknown = await call(h.app, 'POST', '/register', { body: body('inv_not-a-real-code') });
    expectProblemShape(taken, 400, 'invalid-invitation');
    expect(strip(taken.json)).toEqual(strip(unknown.json));
    // One code, one probe: the org admin who minted it cannot try address after address.
    expectProblemShape(await call(h.app, 'POST', '/register', { body: body(second.code) }), 400, 'invalid-invitation');
  });

  it('a code bound to an email registers only that email; another address is refused without spending it', async () => {
    const { code } = await h.invitation({ email: 'bound.person@example.test' });
    expectProblemShape(await call(h.app, 'POST', '/register', { body: body(code, { email: 'someone.else@example.test' }) }), 400, 'invalid-invitation');
    expect((await call(h.app, 'POST', '/register', { body: body(code, { email: 'Bound.Person@example.test' }) })).status).toBe(201);
  });

  it('a refusal of the password does not spend the code', async () => {
    const { code } = await h.invitation();
    expectProblemShape(await call(h.app, 'POST', '/register', { body: body(code, { password: 'short-pw-1' }) }), 422, 'weak-password');
    expect((await call(h.app, 'POST', '/register', { body: body(code) })).status).toBe(201);
  });

  it('two parallel registrations with one code: exactly one succeeds', async () => {
    const { code } = await h.invitation();
    const results = await Promise.all([call(h.app, 'POST', '/register', { body: body(code) }), call(h.app, 'POST', '/register', { body: body(code) })]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 400]);
  });
});
