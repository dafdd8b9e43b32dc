import { generate, generateSecret, generateURI, verify } from 'otplib';

/**
 * TOTP (RFC 6238: SHA-1, 6 digits, 30 s), what every authenticator app speaks. Replay protection
 * is the caller's: store the accepted `timeStep` and pass it back as `afterTimeStep`, so a code is
 * accepted once (the conditional UPDATE that stores the step makes that atomic).
 */
export const TOTP_PERIOD = 30;
/** One step either side absorbs clock drift between phone and server. */
const TOLERANCE_SECONDS = TOTP_PERIOD;

export const newTotpSecret = () => generateSecret({ length: 20 });

export function totpUri(secret: string, account: string, issuer = 'Lattice Lock'): string {
  return generateURI({ issuer, label: account, secret, period: TOTP_PERIOD, digits: 6, algorithm: 'sha1' });
}

export const isTotpCode = (code: string) => /^\d{6}$/.test(code);

export async function verifyTotp(
  secret: string,
  code: string,
  afterTimeStep?: number | null,
  epochSeconds?: number,
): Promise<{ valid: true; timeStep: number } | { valid: false }> {
  if (!isTotpCode(code)) return { valid: false };
  try {
    const result = await verify({
      secret,
      token: code,
      period: TOTP_PERIOD,
      epochTolerance: TOLERANCE_SECONDS,
      ...(afterTimeStep != null ? { afterTimeStep } : {}),
      ...(epochSeconds != null ? { epoch: epochSeconds } : {}),
    });
    // The functional verify's type is TOTP | HOTP; with the TOTP strategy the result carries timeStep.
    const timeStep = (result as { timeStep?: number }).timeStep;
    return result.valid && typeof timeStep === 'number' ? { valid: true, timeStep } : { valid: false };
  } catch {
    return { valid: false };
  }
}

/** The code an authenticator shows now (tests, and nothing else, need this). */
export const totpCode = (secret: string, epochSeconds?: number) =>
  generate({ secret, period: TOTP_PERIOD, ...(epochSeconds != null ? { epoch: epochSeconds } : {}) });
