import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditLogs } from '../../drizzle/schema/auth.js';
import { emailHashOf } from '../../functions/auth/service/audit.js';
import { withSystem } from '../../functions/shared/db/tenant.js';
import { PasswordHasher, needsRehash, ARGON2_PARAMS } from '../../functions/shared/security/passwords.js';
import { HttpProblem } from '../../functions/shared/http/problem.js';
import { call } from '../support/app.js';
import { authHarness, expectProblemShape } from '../support/auth.js';

const small = { max: 3, windowSeconds: 600 };
const h = await authHarness({ limits: { loginIp: { max: 5, windowSeconds: 600 }, loginAccount: small, forgotIp: small, forgotAccount: { max: 2, windowSeconds: 600 }, registerIp: small, mfaIp: small } });

describe('rate limits (kept in PostgreSQL) → 429 + Retry-After', () => {
  it('per account on login, for unknown emails too', async () => {
    const email = 'ghost@example.test';
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(h.app, 'POST', '/login', { body: { email, password: 'whatever-password' }, headers: { 'x-forwarded-for': `192.0.2.${i}` } })).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const before = Date.now();
    const limited = await call(h.app, 'POST', '/login', { body: { email, password: 'whatever-password' }, headers: { 'x-forwarded-for': '192.0.2.99' } });
    const after = Date.now();
    expectProblemShape(limited, 429, 'rate-limited');
    // Fixed windows of 600 s aligned on the epoch: the wait is what is left of the current one, rounded up,
    // as seen at some instant between sending and answering.
    const left = (t: number) => Math.max(1, Math.ceil((600_000 - (t % 600_000)) / 1000));
    const retry = Number(limited.headers.get('retry-after'));
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    if (Math.floor(before / 600_000) === Math.floor(after / 600_000)) {
      expect(retry).toBeGreaterThanOrEqual(left(after));
      expect(retry).toBeLessThanOrEqual(left(before));
    } else expect(retry === left(after) || retry <= left(before)).toBe(true);
    // The refusal is audited although the request failed: the count and the row commit before the 429 is thrown.
    const refusals = await withSystem(h.database, (tx) =>
      tx.select().from(auditLogs).where(and(eq(auditLogs.event, 'rate_limited'), eq(auditLogs.emailHash, emailHashOf(email)))),
    );
    expect(refusals.map((e) => e.details)).toEqual([{ action: 'login' }, { action: 'login' }]);
  });

  it('per IP on login, across accounts, however the client rotates the X-Forwarded-For entries it controls', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      // The front end appends the real peer last; the entries before it are the client's (TRUSTED_PROXY_HOPS=1).
      const headers = { 'x-forwarded-for': `10.${i}.0.1, 192.0.2.${i}, 198.51.100.200` };
      statuses.push((await call(h.app, 'POST', '/login', { body: { email: `p${i}@example.test`, password: 'whatever-password' }, headers })).status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    // Another client is not affected.
    expect((await call(h.app, 'POST', '/login', { body: { email: 'q@example.test', password: 'whatever-password' }, headers: { 'x-forwarded-for': '198.51.100.201' } })).status).toBe(401);
  });

  it('forgot is limited per account, still without revealing whether it exists', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(h.app, 'POST', '/password/forgot', { body: { email: 'limited@example.test' }, headers: { 'x-forwarded-for': `203.0.113.${i}` } })).status);
    expect(statuses).toEqual([202, 202, 429]);
  });

  it('register and MFA are limited per IP', async () => {
    const headers = { 'x-forwarded-for': '203.0.113.77' };
    const reg: number[] = [];
    for (let i = 0; i < 4; i++) reg.push((await call(h.app, 'POST', '/register', { body: { invitation_code: 'inv_nope', email: `r${i}@example.test`, password: 'long-enough-password', name: 'R' }, headers })).status);
    expect(reg).toEqual([400, 400, 400, 429]);
    const u = await h.user();
    const mfa: number[] = [];
    for (let i = 0; i < 4; i++) mfa.push((await call(h.app, 'POST', '/mfa/totp/enable', { token: u.token, body: { password: u.password, code: '123456' }, headers: { 'x-forwarded-for': '203.0.113.78' } })).status);
    expect(mfa).toEqual([409, 409, 409, 429]); // not set up yet; the limiter counts before that check
  });
});

describe('password hashing', () => {
  it('hashes with argon2id m=64 MiB t=3 p=4 and flags other parameters for rehash', async () => {
    const hasher = new PasswordHasher();
    const hash = await hasher.hash('correct horse battery');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=65536,t=3,p=4\$/);
    expect(needsRehash(hash, ARGON2_PARAMS)).toBe(false);
    expect(await hasher.verify(hash, 'correct horse battery')).toEqual({ ok: true, needsRehash: false });
    expect(await hasher.verify(hash, 'wrong')).toEqual({ ok: false, needsRehash: false });
    expect(needsRehash('$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA')).toBe(true);
    expect(needsRehash('not-a-hash')).toBe(true);
  });

  it('beyond the concurrency bound, a caller that waits too long gets 503 + Retry-After', async () => {
    const hasher = new PasswordHasher({ maxConcurrent: 1, queueTimeoutMs: 20 });
    const results = await Promise.allSettled([hasher.hash('one-password-here'), hasher.hash('two-password-here'), hasher.hash('three-password-here')]);
    const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(results[0]!.status).toBe('fulfilled');
    expect(rejected.length).toBeGreaterThanOrEqual(1);
    const problem = rejected[0]!.reason as HttpProblem;
    expect(problem).toBeInstanceOf(HttpProblem);
    expect(problem.status).toBe(503);
    expect(problem.extra.headers?.['Retry-After']).toBe('2');
  });
});
