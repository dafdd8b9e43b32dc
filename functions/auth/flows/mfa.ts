import { inSystem, inTenant, inTenantOf, tenantOf } from '../../shared/http/transactions.js';
import { isTotpCode, newTotpSecret, totpUri } from '../../shared/security/totp.js';
import { authErrors } from '../errors.js';
import { clientInfo } from '../service/client.js';
import {
  acceptTotpStep,
  newRecoveryCodes,
  recordMfaFailure,
  spendRecoveryCode,
  storeRecoveryCodes,
  storeTotpSecret,
  totpAad,
  totpStep,
  turnOffTotp,
} from '../service/mfa.js';
import { activeUser, type UserRow } from '../service/users.js';
import { limited, type AuthContext } from './support.js';

// Second-factor flows. Password verification (Argon2) and the TOTP secret's decryption (Cloud KMS in
// production) run between transactions, never inside one: each database step is its own short
// transaction (docs/architecture.md, "Auth flows").

/**
 * A TOTP code or an unused recovery code (spent here); what matched, or null. Runs before a tenant is
 * known (POST /login/mfa) as well as for a signed-in user: the TOTP step is a system transaction acting
 * as the user, the recovery code is spent in the user's own tenant transaction.
 */
export async function secondFactor(c: AuthContext, user: UserRow, code: string): Promise<'totp' | 'recovery' | null> {
  const trimmed = code.trim();
  if (isTotpCode(trimmed)) {
    const step = await totpStep(c.var.services.keyEncryptor, user, trimmed);
    return step !== null && (await inSystem(c, (tx) => acceptTotpStep(tx, user, step, false))) ? 'totp' : null;
  }
  // The user's own tenant transaction (row-level security), known from the user row even before sign-in.
  const tenant = { orgId: user.orgId, userId: user.id, role: user.role };
  return (await inTenantOf(c, tenant, (tx) => spendRecoveryCode(tx, user, trimmed))) ? 'recovery' : null;
}

async function currentUser(c: AuthContext): Promise<UserRow> {
  const user = await inTenant(c, (tx, t) => activeUser(tx, t));
  if (!user) throw authErrors.invalidCredentials();
  return user;
}

function mfaLimits(c: AuthContext): Promise<void> {
  const { userId, orgId } = c.var.principal;
  const { limits } = c.var.services;
  const ip = clientInfo(c).ip;
  return limited(
    c,
    [
      [`mfa:ip:${ip}`, limits.mfaIp],
      [`mfa:user:${userId}`, limits.mfaAccount],
    ],
    { action: 'mfa', userId, orgId },
  );
}

/** A fresh secret, stored encrypted and not yet enabled; shown once to put into an authenticator. */
export async function setupTotp(c: AuthContext): Promise<{ otpauth_uri: string; secret: string }> {
  const user = await currentUser(c);
  if (user.totpEnabled) throw authErrors.mfaAlreadyEnabled();
  const secret = newTotpSecret();
  const encrypted = await c.var.services.keyEncryptor.encrypt(Buffer.from(secret, 'utf8'), totpAad(user.id));
  await inTenant(c, (tx, t) => storeTotpSecret(tx, t, encrypted));
  return { otpauth_uri: totpUri(secret, user.email), secret };
}

/**
 * Enables TOTP after the password and one valid code (ASVS 2.7: re-authenticate before changing a
 * factor); returns 10 recovery codes, shown this once, stored hashed.
 */
export async function enableTotp(c: AuthContext, input: { password: string; code: string }): Promise<{ recovery_codes: string[] }> {
  const s = c.var.services;
  const client = clientInfo(c);
  const t = tenantOf(c.var.principal);
  await mfaLimits(c);
  const user = await currentUser(c);
  if (user.totpEnabled) throw authErrors.mfaAlreadyEnabled();
  if (!user.totpSecretEncrypted) throw authErrors.mfaNotSetUp();
  const { ok } = await s.passwords.verify(user.passwordHash, input.password);
  if (!ok) {
    await inSystem(c, (tx) => recordMfaFailure(tx, t, client, { stage: 'enable', reason: 'wrong_password' }, true));
    throw authErrors.wrongPassword();
  }
  const step = await totpStep(s.keyEncryptor, user, input.code.trim());
  if (step === null || !(await inSystem(c, (tx) => acceptTotpStep(tx, user, step, true)))) {
    await inSystem(c, (tx) => recordMfaFailure(tx, t, client, { stage: 'enable' }, false));
    throw authErrors.invalidMfaCode(400);
  }
  const codes = newRecoveryCodes();
  await inTenant(c, (tx, tenant) => storeRecoveryCodes(tx, tenant, user, codes, client));
  return { recovery_codes: codes };
}

/** Turning the second factor off needs the password and a code: a stolen session is not enough. */
export async function disableTotp(c: AuthContext, input: { password: string; code: string }): Promise<void> {
  const s = c.var.services;
  const client = clientInfo(c);
  const t = tenantOf(c.var.principal);
  await mfaLimits(c);
  const user = await currentUser(c);
  if (!user.totpEnabled) throw authErrors.mfaNotEnabled();
  const { ok } = await s.passwords.verify(user.passwordHash, input.password);
  const factor = ok ? await secondFactor(c, user, input.code) : null;
  if (!ok || !factor) {
    await inSystem(c, (tx) => recordMfaFailure(tx, t, client, { stage: 'disable' }, true));
    if (!ok) throw authErrors.wrongPassword();
    throw authErrors.invalidMfaCode(400);
  }
  await inTenant(c, (tx, tenant) => turnOffTotp(tx, tenant, user, client));
}
