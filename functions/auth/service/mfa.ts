import { randomInt } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { recoveryCodes, users } from '../../../drizzle/schema/auth.js';
import type { KeyEncryptor } from '../../shared/crypto/port.js';
import type { Tx } from '../../shared/db/database.js';
import type { Tenant } from '../../shared/http/transactions.js';
import { sha256Hex } from '../../shared/security/hashing.js';
import { verifyTotp } from '../../shared/security/totp.js';
import { writeAuthEvent } from './audit.js';
import type { ClientInfo } from './client.js';
import { recordFailure, type UserRow } from './users.js';

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

/** A fresh set of recovery codes, shown once (stored hashed by `enableTotpFor`). */
export const newRecoveryCodes = () => Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);

/**
 * The time step a TOTP code stands for, or null when it is not valid now or not newer than the last
 * accepted one. No transaction: the secret is decrypted by the key encryptor (Cloud KMS in production).
 */
export async function totpStep(keyEncryptor: KeyEncryptor, user: UserRow, code: string): Promise<number | null> {
  if (!user.totpSecretEncrypted) return null;
  const buf = await keyEncryptor.decrypt(user.totpSecretEncrypted, totpAad(user.id));
  let secret: string;
  try {
    secret = buf.toString('utf8');
  } finally {
    buf.fill(0);
  }
  const result = await verifyTotp(secret, code, user.totpLastStep);
  return result.valid ? result.timeStep : null;
}

/**
 * System transaction: accepts a TOTP time step once. It is stored with a conditional UPDATE, so a
 * replay (sequential or parallel) of the same or an older step matches no row. `enabling` also turns
 * TOTP on (only while it is off); otherwise TOTP must be on.
 */
export async function acceptTotpStep(tx: Tx, user: UserRow, step: number, enabling: boolean): Promise<boolean> {
  const rows = await tx
    .update(users)
    .set({ totpLastStep: step, ...(enabling ? { totpEnabled: true } : {}) })
    .where(
      and(
        eq(users.id, user.id),
        sql`(${users.totpLastStep} is null or ${users.totpLastStep} < ${step})`,
        enabling ? eq(users.totpEnabled, false) : eq(users.totpEnabled, true),
      ),
    )
    .returning({ id: users.id });
  return rows.length === 1;
}

/** Spends an unused recovery code of the user; whether one matched. */
export async function spendRecoveryCode(tx: Tx, user: UserRow, code: string): Promise<boolean> {
  const spent = await tx
    .update(recoveryCodes)
    .set({ usedAt: new Date() })
    .where(and(eq(recoveryCodes.userId, user.id), eq(recoveryCodes.codeHash, recoveryHash(code)), isNull(recoveryCodes.usedAt)))
    .returning({ id: recoveryCodes.id });
  return spent.length === 1;
}

/** Tenant transaction: a fresh secret (encrypted by the caller), stored while TOTP is off. */
export async function storeTotpSecret(tx: Tx, t: Tenant, encrypted: string): Promise<void> {
  await tx.update(users).set({ totpSecretEncrypted: encrypted, totpLastStep: null }).where(and(eq(users.id, t.userId), eq(users.totpEnabled, false)));
}

/**
 * System transaction: a failed attempt to change the second factor, audited as `mfa_failed`; a
 * wrong password (and a failed disable) also counts towards the lockout.
 */
export async function recordMfaFailure(tx: Tx, t: Tenant, client: ClientInfo, details: Record<string, unknown>, countsTowardLockout: boolean): Promise<void> {
  if (countsTowardLockout) await recordFailure(tx, t.userId);
  await writeAuthEvent(tx, { event: 'mfa_failed', orgId: t.orgId, userId: t.userId, client, details });
}

/** Tenant transaction: the recovery codes of a just-enabled TOTP replace any earlier ones. */
export async function storeRecoveryCodes(tx: Tx, t: Tenant, user: UserRow, codes: string[], client: ClientInfo): Promise<void> {
  await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, user.id));
  await tx.insert(recoveryCodes).values(codes.map((c) => ({ orgId: user.orgId, userId: user.id, codeHash: recoveryHash(c) })));
  await writeAuthEvent(tx, { event: 'mfa_enabled', orgId: t.orgId, userId: t.userId, client });
}

/** Tenant transaction: TOTP off, its secret and recovery codes gone. */
export async function turnOffTotp(tx: Tx, t: Tenant, user: UserRow, client: ClientInfo): Promise<void> {
  await tx.update(users).set({ totpEnabled: false, totpSecretEncrypted: null, totpLastStep: null }).where(eq(users.id, user.id));
  await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, user.id));
  await writeAuthEvent(tx, { event: 'mfa_disabled', orgId: t.orgId, userId: t.userId, client });
}
