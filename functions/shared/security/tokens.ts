import type { JWTPayload } from 'jose';
import { userRoles, type UserRole } from '../../../drizzle/schema/roles.js';

/** jose is needed on the first signed or verified token, not to start: it loads then, once. */
let josePromise: Promise<typeof import('./jose.js')> | undefined;
const jose = () => (josePromise ??= import('./jose.js'));

/**
 * Access tokens: HS256 JWTs with a `kid` so secrets rotate by list (the first signs, all verify).
 * Every function verifies them with this code; only the auth function issues them.
 */
export const ISSUER = 'lattice-lock/auth';
export const AUDIENCE = 'lattice-lock';
export const ACCESS_TTL_SECONDS = 15 * 60;

export type Role = UserRole;
/** What a token is for: verifyToken refuses a token of another kind, so one can never stand in for another. */
export type TokenType = 'access' | 'mfa' | 'email-verification';
/** Lowest first: a role includes every role before it (roleAtLeast). */
export const ROLES: readonly Role[] = [...userRoles].reverse();

export interface Principal {
  userId: string;
  orgId: string;
  role: Role;
  platformAdmin: boolean;
  sessionId?: string;
  /** auth.users.token_version the access token was issued under (`ver`); see revocation.ts. */
  tokenVersion?: number;
  /** How the caller authenticated: an access token, or a gateway API key (providers only). */
  via: 'token' | 'api_key';
  scopes?: string[];
}

export interface SigningKey {
  kid: string;
  secret: string;
}

const encoder = new TextEncoder();
const keyCache = new Map<string, Uint8Array>();
function keyBytes(secret: string): Uint8Array {
  let bytes = keyCache.get(secret);
  if (!bytes) keyCache.set(secret, (bytes = encoder.encode(secret)));
  return bytes;
}

export async function signToken(
  keys: SigningKey[],
  typ: TokenType,
  claims: Record<string, unknown>,
  subject: string,
  ttlSeconds: number,
): Promise<string> {
  const [current] = keys;
  if (!current) throw new Error('no signing key configured');
  const { SignJWT } = await jose();
  return new SignJWT({ ...claims, typ })
    .setProtectedHeader({ alg: 'HS256', kid: current.kid, typ: 'JWT' })
    .setSubject(subject)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setJti(crypto.randomUUID())
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(keyBytes(current.secret));
}

export async function issueAccessToken(keys: SigningKey[], p: Omit<Principal, 'via' | 'scopes' | 'tokenVersion'> & { tokenVersion: number }): Promise<string> {
  return signToken(keys, 'access', { org: p.orgId, role: p.role, pa: p.platformAdmin, sid: p.sessionId, ver: p.tokenVersion }, p.userId, ACCESS_TTL_SECONDS);
}

export class TokenError extends Error {
  override name = 'TokenError';
}

/** Verifies signature (kid must be known; only HS256), issuer, audience, expiry and `typ`. */
export async function verifyToken(keys: SigningKey[], token: string, typ: TokenType): Promise<JWTPayload> {
  const { errors, jwtVerify } = await jose();
  try {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        const key = keys.find((k) => k.kid === header.kid);
        if (!key) throw new TokenError('unknown key id');
        return keyBytes(key.secret);
      },
      { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE, clockTolerance: 5 },
    );
    if (payload.typ !== typ) throw new TokenError('wrong token type');
    return payload;
  } catch (err) {
    if (err instanceof TokenError) throw err;
    if (err instanceof errors.JWTExpired) throw new TokenError('token expired');
    throw new TokenError('invalid token');
  }
}

export async function verifyAccessToken(keys: SigningKey[], token: string): Promise<Principal> {
  const payload = await verifyToken(keys, token, 'access');
  const role = payload.role as Role;
  if (typeof payload.sub !== 'string' || typeof payload.org !== 'string' || !ROLES.includes(role)) {
    throw new TokenError('malformed claims');
  }
  return {
    userId: payload.sub,
    orgId: payload.org,
    role,
    platformAdmin: payload.pa === true,
    sessionId: typeof payload.sid === 'string' ? payload.sid : undefined,
    tokenVersion: Number.isSafeInteger(payload.ver) ? (payload.ver as number) : undefined,
    via: 'token',
  };
}

export function roleAtLeast(role: Role, minimum: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(minimum);
}
