import { z } from '@hono/zod-openapi';
import { isSafeText, UNSAFE_TEXT_MESSAGE } from '../../shared/http/input.js';
import { authErrors } from '../errors.js';
import { COMMON_PASSWORDS } from './common-passwords.js';

/**
 * Password policy (OWASP ASVS 2.1, NIST SP 800-63B): at least 12 characters, at most 256 (all
 * characters allowed, no composition rules), not the account's email, not a known common password.
 */
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

/** Schema for a password field: length only, so the policy's other rules can name themselves. */
export const passwordField = z.string().min(1).max(PASSWORD_MAX);

/** What an email must look like here (the users table's CHECK is the last word). */
export const emailField = z
  .string()
  .trim()
  .max(320)
  .regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'must be an email address')
  .refine(isSafeText, UNSAFE_TEXT_MESSAGE)
  .openapi({ format: 'email', example: 'ada@example.com' });

export function passwordProblems(password: string, email: string, path = 'password'): { path: string; message: string }[] {
  const issues: string[] = [];
  const lower = password.toLowerCase();
  const address = email.trim().toLowerCase();
  if ([...password].length < PASSWORD_MIN) issues.push(`must be at least ${PASSWORD_MIN} characters`);
  if (lower === address || lower === address.split('@')[0]) issues.push('must not be your email address');
  if (COMMON_PASSWORDS.has(lower) || /^(.)\1+$/.test(password)) issues.push('is too common; choose a less predictable password');
  return issues.map((message) => ({ path, message }));
}

export function assertPasswordPolicy(password: string, email: string, path = 'password'): void {
  const problems = passwordProblems(password, email, path);
  if (problems.length) throw authErrors.weakPassword(problems);
}
