/**
 * Rate limits and audit rows use the kernel's client address (client-ip.ts), never the client's own
 * first X-Forwarded-For entry: the review's 15 logins with a rotating first entry were never limited,
 * and /auth/audit showed the forged 8.8.8.8 and stored an impossible 10.9.2633.1.
 */
import { describe, expect, it } from 'vitest';
import { call } from '../support/app.js';
import { authHarness } from '../support/auth.js';

const h = await authHarness({ limits: { loginIp: { max: 5, windowSeconds: 900 } } });

describe('client address in auth', () => {
  it('15 logins rotating the forged first entry from one real address are limited after 5', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) {
      const headers = { 'x-forwarded-for': `8.8.${i}.8, 198.51.100.33` };
      statuses.push((await call(h.app, 'POST', '/login', { body: { email: `rot${i}@example.test`, password: 'whatever-password' }, headers })).status);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
  });

  it('the audit trail shows the address the front end saw, and never an invalid one as given', async () => {
    const admin = await h.user({ role: 'owner' });
    await call(h.app, 'POST', '/login', { body: { email: admin.email, password: 'not-the-password' }, headers: { 'x-forwarded-for': '8.8.8.8, 203.0.113.44' } });
    await call(h.app, 'POST', '/login', { body: { email: admin.email, password: 'not-the-password' }, headers: { 'x-forwarded-for': '8.8.8.8, 10.9.2633.1' } });
    const audit = await call(h.app, 'GET', '/audit?limit=50', { token: admin.token });
    expect(audit.status).toBe(200);
    const ips = audit.json.items.filter((e: any) => e.event === 'login_failed').map((e: any) => e.ip);
    expect(ips).toContain('203.0.113.44');
    expect(ips).toContain('unknown');
    expect(ips).not.toContain('8.8.8.8');
    expect(ips).not.toContain('10.9.2633.1');
  });
});
