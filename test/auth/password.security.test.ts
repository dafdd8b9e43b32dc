import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { passwordResets } from '../../drizzle/schema/auth.js';
import { logMailer } from '../../functions/auth/service/mailer.js';
import { withSystem } from '../../functions/shared/db/tenant.js';
import { createLogger, setLogSink } from '../../functions/shared/http/logger.js';
import { sha256Hex } from '../../functions/shared/security/hashing.js';
import { call } from '../support/app.js';
import { authHarness, expectProblemShape } from '../support/auth.js';

const h = await authHarness();
const NEW = 'a-brand-new-long-passphrase';

async function resetToken(email: string): Promise<string> {
  const before = h.mails.length;
  const res = await call(h.app, 'POST', '/password/forgot', { body: { email } });
  expect(res.status).toBe(202);
  expect(h.mails.length).toBe(before + 1);
  return h.mails.at(-1)!.token;
}

describe('password forgot / reset', () => {
  it('forgot always answers 202 with the same body; only a real account gets a mail; the token is stored hashed', async () => {
    const u = await h.user();
    const before = h.mails.length;
    const asked = Date.now();
    const known = await call(h.app, 'POST', '/password/forgot', { body: { email: u.email.toUpperCase() } });
    const answered = Date.now();
    const unknown = await call(h.app, 'POST', '/password/forgot', { body: { email: 'nobody-here@example.test' } });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(known.json).toEqual(unknown.json);
    expect(h.mails.length).toBe(before + 1);
    const token = h.mails.at(-1)!.token;
    const rows = await withSystem(h.database, (tx) => tx.select().from(passwordResets).where(eq(passwordResets.userId, u.id)));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.tokenHash).toBe(sha256Hex(token));
    // Valid for 30 minutes from when the request was served.
    const issuedAt = rows[0]!.expiresAt.getTime() - 30 * 60_000;
    expect(issuedAt).toBeGreaterThanOrEqual(asked - 1);
    expect(issuedAt).toBeLessThanOrEqual(answered + 1);
  });

  it('reset sets the password, revokes every session, and the token works once', async () => {
    const u = await h.user();
    const other = await call(h.app, 'POST', '/login', { body: { email: u.email, password: u.password } });
    const token = await resetToken(u.email);
    expectProblemShape(await call(h.app, 'POST', '/password/reset', { body: { token, new_password: 'short' } }), 422, 'weak-password');
    expect((await call(h.app, 'POST', '/password/reset', { body: { token, new_password: NEW } })).status).toBe(204);
    for (const rt of [u.tokens.refresh_token, other.json.refresh_token]) {
      expect((await call(h.app, 'POST', '/token/refresh', { body: { refresh_token: rt } })).status).toBe(401);
    }
    expectProblemShape(await call(h.app, 'POST', '/password/reset', { body: { token, new_password: `${NEW}-2` } }), 400, 'invalid-reset-token');
    expect((await call(h.app, 'POST', '/login', { body: { email: u.email, password: u.password } })).status).toBe(401);
    expect((await call(h.app, 'POST', '/login', { body: { email: u.email, password: NEW } })).status).toBe(200);
  });

  it('an expired reset token is refused', async () => {
    const u = await h.user();
    const token = await resetToken(u.email);
    await withSystem(h.database, (tx) => tx.update(passwordResets).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(passwordResets.tokenHash, sha256Hex(token))));
    expectProblemShape(await call(h.app, 'POST', '/password/reset', { body: { token, new_password: NEW } }), 400, 'invalid-reset-token');
  });

  it('the dev mailer logs that a mail was sent, without the token or the address', async () => {
    const lines: string[] = [];
    const previous = setLogSink((l) => lines.push(l));
    const level = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'info'; // tests run at warn; the mailer's line is info
    try {
      await logMailer(createLogger()).sendPasswordReset({ to: 'ada@example.test', token: 'SECRET-RESET-TOKEN-123', expiresAt: new Date() });
    } finally {
      setLogSink(previous);
      process.env.LOG_LEVEL = level;
    }
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).message).toBe('password reset mail sent');
    expect(lines[0]).not.toContain('SECRET-RESET-TOKEN-123');
    expect(lines[0]).not.toContain('ada@example.test');
  });
});

describe('password change', () => {
  it('needs the current password and revokes every other session, keeping the caller’s', async () => {
    const u = await h.user();
    const other = await call(h.app, 'POST', '/login', { body: { email: u.email, password: u.password } });
    expectProblemShape(
      await call(h.app, 'POST', '/password/change', { token: u.token, body: { current_password: 'not-my-password', new_password: NEW } }),
      403,
      'wrong-password',
    );
    expectProblemShape(
      await call(h.app, 'POST', '/password/change', { token: u.token, body: { current_password: u.password, new_password: u.email } }),
      422,
      'weak-password',
    );
    expect((await call(h.app, 'POST', '/password/change', { token: u.token, body: { current_password: u.password, new_password: NEW } })).status).toBe(204);
    expect((await call(h.app, 'POST', '/token/refresh', { body: { refresh_token: other.json.refresh_token } })).status).toBe(401);
    expect((await call(h.app, 'POST', '/token/refresh', { body: { refresh_token: u.tokens.refresh_token } })).status).toBe(200);
  });
});
