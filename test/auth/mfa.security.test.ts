import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { recoveryCodes, users } from '../../drizzle/schema/auth.js';
import { totpAad } from '../../functions/auth/service/mfa.js';
import { withSystem } from '../../functions/shared/db/tenant.js';
import { totpCode, TOTP_PERIOD } from '../../functions/shared/security/totp.js';
import { call } from '../support/app.js';
import { authHarness, expectProblemShape } from '../support/auth.js';

const h = await authHarness();

/** Codes of the next steps, so each test does not wait 30 s for a fresh one. */
const codeAt = (secret: string, stepOffset: number) => totpCode(secret, Math.floor(Date.now() / 1000) + stepOffset * TOTP_PERIOD);

async function enrolled() {
  const u = await h.user();
  const setup = await call(h.app, 'POST', '/mfa/totp/setup', { token: u.token });
  expect(setup.status).toBe(200);
  expect(setup.json.otpauth_uri).toMatch(/^otpauth:\/\/totp\/.+secret=/);
  const secret = setup.json.secret as string;
  const enable = await call(h.app, 'POST', '/mfa/totp/enable', { token: u.token, body: { password: u.password, code: await codeAt(secret, -1) } });
  expect(enable.status).toBe(200);
  return { ...u, secret, recovery: enable.json.recovery_codes as string[] };
}

const login = (email: string, password: string) => call(h.app, 'POST', '/login', { body: { email, password } });
const mfa = (mfa_token: string, code: string) => call(h.app, 'POST', '/login/mfa', { body: { mfa_token, code } });

describe('TOTP', () => {
  it('enable needs the password as well: a stolen access token cannot bind the thief\'s authenticator', async () => {
    const u = await h.user();
    const setup = await call(h.app, 'POST', '/mfa/totp/setup', { token: u.token });
    const code = await codeAt(setup.json.secret, 0);
    expectProblemShape(await call(h.app, 'POST', '/mfa/totp/enable', { token: u.token, body: { code } }), 422, 'validation-failed');
    expectProblemShape(await call(h.app, 'POST', '/mfa/totp/enable', { token: u.token, body: { password: `${u.password}-wrong`, code } }), 403, 'wrong-password');
    const [row] = await withSystem(h.database, (tx) => tx.select().from(users).where(eq(users.id, u.id)));
    expect(row!.totpEnabled).toBe(false);
  });

  it('enable needs a valid code; the secret is stored encrypted and bound to its user', async () => {
    const u = await h.user();
    const setup = await call(h.app, 'POST', '/mfa/totp/setup', { token: u.token });
    expectProblemShape(await call(h.app, 'POST', '/mfa/totp/enable', { token: u.token, body: { password: u.password, code: '000000' } }), 400, 'invalid-mfa-code');
    const [row] = await withSystem(h.database, (tx) => tx.select().from(users).where(eq(users.id, u.id)));
    expect(row!.totpEnabled).toBe(false);
    expect(row!.totpSecretEncrypted).not.toContain(setup.json.secret);
    const plain = await h.services.keyEncryptor.decrypt(row!.totpSecretEncrypted!, totpAad(u.id));
    expect(plain.toString()).toBe(setup.json.secret);
    await expect(h.services.keyEncryptor.decrypt(row!.totpSecretEncrypted!, totpAad('someone-else'))).rejects.toThrow();
  });

  it('login with 2FA answers {mfa_required, mfa_token}; a code completes it; the same code is refused after', async () => {
    const u = await enrolled();
    expect((await call(h.app, 'GET', '/me', { token: u.token })).json.mfa_enabled).toBe(true);
    const first = await login(u.email, u.password);
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ mfa_required: true, mfa_token: expect.any(String) });
    const code = await codeAt(u.secret, 0);
    const ok = await mfa(first.json.mfa_token, code);
    expect(ok.status).toBe(200);
    expect(ok.json.token_type).toBe('Bearer');
    // Replay of the same code within its time step: refused.
    const again = await login(u.email, u.password);
    expectProblemShape(await mfa(again.json.mfa_token, code), 401, 'invalid-mfa-code');
    // Two parallel uses of one fresh code: one wins.
    const next = await codeAt(u.secret, 1);
    const both = await Promise.all([mfa(again.json.mfa_token, next), mfa(again.json.mfa_token, next)]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it('recovery codes: 10, stored hashed, each works once', async () => {
    const u = await enrolled();
    expect(u.recovery).toHaveLength(10);
    const stored = await withSystem(h.database, (tx) => tx.select().from(recoveryCodes).where(eq(recoveryCodes.userId, u.id)));
    expect(stored).toHaveLength(10);
    expect(stored.some((r) => u.recovery.includes(r.codeHash))).toBe(false);
    const step = await login(u.email, u.password);
    expect((await mfa(step.json.mfa_token, u.recovery[0]!.toUpperCase())).status).toBe(200);
    expectProblemShape(await mfa(step.json.mfa_token, u.recovery[0]!), 401, 'invalid-mfa-code');
    expect((await mfa(step.json.mfa_token, u.recovery[1]!)).status).toBe(200);
  });

  it('a forged or wrong-type mfa_token is refused; an access token is not an mfa token', async () => {
    const u = await enrolled();
    expectProblemShape(await mfa(u.token, '123456'), 401, 'invalid-mfa-token');
    expectProblemShape(await mfa('eyJhbGciOiJIUzI1NiJ9.e30.invalid-signature', '123456'), 401, 'invalid-mfa-token');
  });

  it('disable needs the password and a code', async () => {
    const u = await enrolled();
    expectProblemShape(
      await call(h.app, 'POST', '/mfa/totp/disable', { token: u.token, body: { password: 'wrong-password-here', code: await codeAt(u.secret, 1) } }),
      403,
      'wrong-password',
    );
    expect((await call(h.app, 'POST', '/mfa/totp/disable', { token: u.token, body: { password: u.password, code: u.recovery[2]! } })).status).toBe(204);
    const plain = await login(u.email, u.password);
    expect(plain.json.access_token).toEqual(expect.any(String));
    const codes = await withSystem(h.database, (tx) => tx.select().from(recoveryCodes).where(eq(recoveryCodes.userId, u.id)));
    expect(codes).toEqual([]);
    // Disabled now: a second disable has nothing to turn off.
    expectProblemShape(await call(h.app, 'POST', '/mfa/totp/disable', { token: u.token, body: { password: u.password, code: await codeAt(u.secret, 2) } }), 409, 'mfa-not-enabled');
  });

  it('409 mfa-already-enabled for setup or enable once enrolled; 409 mfa-not-enabled to disable it unenrolled', async () => {
    const u = await enrolled();
    expectProblemShape(await call(h.app, 'POST', '/mfa/totp/setup', { token: u.token }), 409, 'mfa-already-enabled');
    expectProblemShape(await call(h.app, 'POST', '/mfa/totp/enable', { token: u.token, body: { password: u.password, code: await codeAt(u.secret, 1) } }), 409, 'mfa-already-enabled');
    const plain = await h.user();
    expectProblemShape(await call(h.app, 'POST', '/mfa/totp/disable', { token: plain.token, body: { password: plain.password, code: '123456' } }), 409, 'mfa-not-enabled');
  });
});

describe('password reset and the second factor', () => {
  async function reset(email: string, body: Record<string, unknown>) {
    expect((await call(h.app, 'POST', '/password/forgot', { body: { email } })).status).toBe(202);
    const token = h.mails.at(-1)!.token;
    return call(h.app, 'POST', '/password/reset', { body: { token, ...body } });
  }

  it('keeps TOTP unless asked: the mailbox alone does not remove the second factor', async () => {
    const u = await enrolled();
    expect((await reset(u.email, { new_password: 'reset-but-keep-totp-77' })).status).toBe(204);
    expect((await login(u.email, 'reset-but-keep-totp-77')).json).toMatchObject({ mfa_required: true });
  });

  it('disable_totp: true removes the factor and its recovery codes, audited, and ends the old tokens', async () => {
    const u = await enrolled();
    expect((await reset(u.email, { new_password: 'reset-and-drop-totp-88', disable_totp: true })).status).toBe(204);
    const signedIn = await login(u.email, 'reset-and-drop-totp-88');
    expect(signedIn.status).toBe(200);
    expect(signedIn.json.access_token).toEqual(expect.any(String));
    expectProblemShape(await call(h.app, 'GET', '/me', { token: u.token }), 401, 'invalid-token');
    const [row] = await withSystem(h.database, (tx) => tx.select().from(users).where(eq(users.id, u.id)));
    expect(row).toMatchObject({ totpEnabled: false, totpSecretEncrypted: null });
    const codes = await withSystem(h.database, (tx) => tx.select().from(recoveryCodes).where(eq(recoveryCodes.userId, u.id)));
    expect(codes).toEqual([]);
  });
});
