import { HttpProblem, type ErrorCatalog } from '../shared/http/problem.js';

/**
 * The auth function's error catalog: one place for each stable code and its status
 * (cf. better-auth `plugins/two-factor/error-code.ts`). Details never say which part of a
 * credential was wrong.
 */
export const authErrors = {
  invalidCredentials: () => new HttpProblem(401, 'invalid-credentials', 'the email or password is incorrect'),
  locked: (retryAfterSeconds: number) =>
    new HttpProblem(423, 'account-locked', 'too many failed attempts: the account is locked for a while', {
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    }),
  disabled: () => new HttpProblem(403, 'account-disabled', 'this account is disabled'),
  invalidMfaToken: () => new HttpProblem(401, 'invalid-mfa-token', 'the MFA token is invalid or expired; sign in again'),
  invalidMfaCode: (status: 400 | 401 = 401) => new HttpProblem(status, 'invalid-mfa-code', 'the code is invalid or was already used'),
  mfaAlreadyEnabled: () => new HttpProblem(409, 'mfa-already-enabled', 'two-factor authentication is already enabled'),
  mfaNotSetUp: () => new HttpProblem(409, 'mfa-not-set-up', 'call POST /mfa/totp/setup first'),
  mfaNotEnabled: () => new HttpProblem(409, 'mfa-not-enabled', 'two-factor authentication is not enabled'),
  invalidRefreshToken: () => new HttpProblem(401, 'invalid-refresh-token', 'the refresh token is invalid, expired or revoked; sign in again'),
  invalidInvitation: () => new HttpProblem(400, 'invalid-invitation', 'the invitation code is invalid, expired or already used'),
  invalidResetToken: () => new HttpProblem(400, 'invalid-reset-token', 'the reset token is invalid, expired or already used'),
  invalidVerificationToken: () => new HttpProblem(400, 'invalid-verification-token', 'the verification token is invalid, expired or already used'),
  wrongPassword: () => new HttpProblem(403, 'wrong-password', 'the current password is incorrect'),
  weakPassword: (errors: { path: string; message: string }[]) =>
    new HttpProblem(422, 'weak-password', 'the password does not meet the policy', { errors }),
  invitationNotPending: () => new HttpProblem(409, 'invitation-not-pending', 'the invitation was already used or revoked'),
  slugTaken: () => new HttpProblem(409, 'slug-taken', 'an organization with this slug already exists'),
  notPlatformAdmin: () => new HttpProblem(403, 'forbidden', 'requires a platform administrator'),
} satisfies ErrorCatalog;
