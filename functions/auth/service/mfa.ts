import { randomInt } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { recoveryCodes, users } from '../../../drizzle/schema/auth.js';
import { withSystem, withTenant } from '../../shared/db/tenant.js';
import { sha256Hex } from '../../shared/security/hashing.js';
import type { Principal } from '../../shared/security/tokens.js';
import { isTotpCode, newTotpSecret, totpUri, verifyTotp } from '../../shared/security/totp.js';
import { authErrors } from '../errors.js';
import type { AuthServices } from '../services.js';
import { writeAuthEvent } from './audit.js';
import type { ClientInfo } from './client.js';
import { enforce } from './rate-limit.js';
import { findUserById, recordFailure, type UserRow } from './users.js';

export const RECOVERY_CODE_COUNT = 10;
/** No 0/o, 1/l/i: codes are read off paper. 10 characters of 31 ≈ 50 bits: SHA-256 suffices. */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** The AAD binds a TOTP ciphertext to its user: copied to another row, it does not decrypt. */
export const totpAad = (userId: string) => `user:${userId}|totp`;

export const normalizeRecoveryCode = (code: string) => code.toLowerCase().replace(/[^a-z0-9]/g, '');
const recoveryHash = (code: string) => sha256Hex(`recovery:${normalizeRecoveryCode(code)}`);

function newRecoveryCode(): string {
  const chars = Array.from({ length: 10 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}

async function secretOf(s: AuthServices, user: UserRow): Promise<string> {
  const buf = await s.keyEncryptor.decrypt(user.totpSecretEncrypted!, totpAad(user.id));
  try {
    return buf.toString('utf8');
  } finally {
    buf.fill(0);
  }
}

/**
 * Accepts a TOTP code once: the accepted time step is stored with a conditional UPDATE, so a
 * replay (sequential or parallel) of the same or an older step matches no row.
 */
async function acceptTotp(s: AuthServices, user: UserRow, code: string, enabling: boolean): Promise<boolean> {
  if (!user.totpSecretEncrypted) return false;
  const result = await verifyTotp(await secretOf(s, user), code, user.totpLastStep);
  if (!result.valid) return false;
  const rows = await withSystem(s.database, (tx) =>
    tx
      .update(users)
      .set({ totpLastStep: result.timeStep, ...(enabling ? { totpEnabled: true } : {}) })
      .where(
        and(
          eq(users.id, user.id),
          sql`(${users.totpLastStep} is null or ${users.totpLastStep} < ${result.timeStep})`,
          enabling ? eq(users.totpEnabled, false) : eq(users.totpEnabled, true),
        ),
      )
      .returning({ id: users.id }),
  );
  return rows.length === 1;
}

/** A TOTP code or an unused recovery code (spent here); what matched, or null. */
export async function verifySecondFactor(s: AuthServices, user: UserRow, code: string): Promise<'totp' | 'recovery' | null> {
  const trimmed = code.trim();
  if (isTotpCode(trimmed)) return (await acceptTotp(s, user, trimmed, false)) ? 'totp' : null;
  const spent = await withTenant(s.database, { orgId: user.orgId, userId: user.id }, (tx) =>
    tx
      .update(recoveryCodes)
      .set({ usedAt: new Date() })
      .where(and(eq(recoveryCodes.userId, user.id), eq(recoveryCodes.codeHash, recoveryHash(trimmed)), isNull(recoveryCodes.usedAt)))
      .returning({ id: recoveryCodes.id }),
  );
  return spent.length === 1 ? 'recovery' : null;
}

async function currentUser(s: AuthServices, p: Principal): Promise<UserRow> {
  const user = await withTenant(s.database, { orgId: p.orgId, userId: p.userId }, (tx) => findUserById(tx, p.userId));
  if (!user || user.status !== 'active') throw authErrors.invalidCredentials();
  return user;
}

const mfaLimits = (s: AuthServices, p: Principal, client: ClientInfo) =>
  enforce(
    s.database,
    [
      [`mfa:ip:${client.ip}`, s.limits.mfaIp],
      [`mfa:user:${p.userId}`, s.limits.mfaAccount],
    ],
    client,
    { action: 'mfa', userId: p.userId, orgId: p.orgId },
  );

/** A fresh secret, stored encrypted and not yet enabled; shown once to put into an authenticator. */
export async function setupTotp(s: AuthServices, p: Principal): Promise<{ otpauth_uri: string; secret: string }> {
  const user = await currentUser(s, p);
  if (user.totpEnabled) throw authErrors.mfaAlreadyEnabled();
  const secret = newTotpSecret();
  const encrypted = await s.keyEncryptor.encrypt(Buffer.from(secret, 'utf8'), totpAad(user.id));
  await withTenant(s.database, { orgId: p.orgId, userId: p.userId }, (tx) =>
    tx.update(users).set({ totpSecretEncrypted: encrypted, totpLastStep: null }).where(and(eq(users.id, user.id), eq(users.totpEnabled, false))),
  );
  return { otpauth_uri: totpUri(secret, user.email), secret };
}

/**
 * Enables TOTP after the password and one valid code (ASVS 2.7: re-authenticate before changing a
 * factor); returns 10 recovery codes, shown this once, stored hashed.
 */
export async function enableTotp(s: AuthServices, p: Principal, input: { password: string; code: string }, client: ClientInfo): Promise<{ recovery_codes: string[] }> {
  await mfaLimits(s, p, client);
  const user = await currentUser(s, p);
  if (user.totpEnabled) throw authErrors.mfaAlreadyEnabled();
  if (!user.totpSecretEncrypted) throw authErrors.mfaNotSetUp();
  const { ok } = await s.passwords.verify(user.passwordHash, input.password);
  if (!ok) {
    await withSystem(s.database, async (tx) => {
      await recordFailure(tx, user.id);
      await writeAuthEvent(tx, { event: 'mfa_failed', orgId: p.orgId, userId: p.userId, client, details: { stage: 'enable', reason: 'wrong_password' } });
    });
    throw authErrors.wrongPassword();
  }
  if (!(await acceptTotp(s, user, input.code.trim(), true))) {
    await withSystem(s.database, (tx) => writeAuthEvent(tx, { event: 'mfa_failed', orgId: p.orgId, userId: p.userId, client, details: { stage: 'enable' } }));
    throw authErrors.invalidMfaCode(400);
  }
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  await withTenant(s.database, { orgId: p.orgId, userId: p.userId }, async (tx) => {
    await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, user.id));
    await tx.insert(recoveryCodes).values(codes.map((c) => ({ orgId: user.orgId, userId: user.id, codeHash: recoveryHash(c) })));
    await writeAuthEvent(tx, { event: 'mfa_enabled', orgId: p.orgId, userId: p.userId, client });
  });
  return { recovery_codes: codes };
}

/** Turning the second factor off needs the password and a code: a stolen session is not enough. */
export async function disableTotp(s: AuthServices, p: Principal, input: { password: string; code: string }, client: ClientInfo): Promise<void> {
  await mfaLimits(s, p, client);
  const user = await currentUser(s, p);
  if (!user.totpEnabled) throw authErrors.mfaNotEnabled();
  const { ok } = await s.passwords.verify(user.passwordHash, input.password);
  const factor = ok ? await verifySecondFactor(s, user, input.code) : null;
  if (!ok || !factor) {
    await withSystem(s.database, async (tx) => {
      await recordFailure(tx, user.id);
      await writeAuthEvent(tx, { event: 'mfa_failed', orgId: p.orgId, userId: p.userId, client, details: { stage: 'disable' } });
    });
    if (!ok) throw authErrors.wrongPassword();
    throw authErrors.invalidMfaCode(400);
  }
  await withTenant(s.database, { orgId: p.orgId, userId: p.userId }, async (tx) => {
    await tx.update(users).set({ totpEnabled: false, totpSecretEncrypted: null, totpLastStep: null }).where(eq(users.id, user.id));
    await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, user.id));
    await writeAuthEvent(tx, { event: 'mfa_disabled', orgId: p.orgId, userId: p.userId, client });
  });
}
