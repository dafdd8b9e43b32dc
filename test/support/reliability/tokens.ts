import { SignJWT } from 'jose';
import { AUDIENCE, ISSUER, signToken } from '../../../functions/shared/security/tokens.js';
import { testConfig } from '../app.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/**
 * Authorization headers that must all be refused (401) by every protected route: each one is a
 * token a real attacker would try, built for a real user of a real organization.
 */
export async function badAuthorizations(p: { userId: string; orgId: string }): Promise<Record<string, string>> {
  const now = Math.floor(Date.now() / 1000);
  const claims = { org: p.orgId, role: 'owner', pa: true, typ: 'access' };
  const full = { ...claims, sub: p.userId, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 600 };
  const secret = new TextEncoder().encode(testConfig().JWT_SECRETS[0]!.secret);
  const kid = testConfig().JWT_SECRETS[0]!.kid;
  const sign = (payload: Record<string, unknown>, key: Uint8Array, header: Record<string, unknown> = { alg: 'HS256', kid }) =>
    new SignJWT(payload).setProtectedHeader(header as never).sign(key);
  return {
    'no header': '',
    'alg none': `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(full)}.`,
    'alg None, empty signature': `Bearer ${b64({ alg: 'None', kid })}.${b64(full)}.`,
    expired: `Bearer ${await sign({ ...full, iat: now - 7200, exp: now - 3600 }, secret)}`,
    'not yet valid': `Bearer ${await sign({ ...full, nbf: now + 3600 }, secret)}`,
    forged: `Bearer ${await sign(full, new TextEncoder().encode('an-attacker-chosen-secret-of-32-bytes!!'))}`,
    'unknown kid': `Bearer ${await sign(full, secret, { alg: 'HS256', kid: 'attacker' })}`,
    'wrong audience': `Bearer ${await sign({ ...full, aud: 'somebody-else' }, secret)}`,
    'wrong issuer': `Bearer ${await sign({ ...full, iss: 'https://evil.example' }, secret)}`,
    'mfa token as access': `Bearer ${await signToken(testConfig().JWT_SECRETS, 'mfa', { org: p.orgId }, p.userId, 300)}`,
    'tampered payload': await (async () => {
      const good = await sign({ ...full, role: 'viewer', pa: false }, secret);
      const [h, , s] = good.split('.');
      return `Bearer ${h}.${b64(full)}.${s}`;
    })(),
    garbage: 'Bearer not.a.jwt',
    'empty bearer': 'Bearer ',
    basic: `Basic ${Buffer.from('admin:admin').toString('base64')}`,
    huge: `Bearer ${'A'.repeat(16_000)}`,
    'latin-1 bytes': 'Bearer \u00ff\u00fe\u00e9t\u00e9',
    'gateway key lookalike': 'Bearer llk_0000000000000000000000000000000000000000',
  };
}
