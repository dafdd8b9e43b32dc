import { z } from '@hono/zod-openapi';
import { userRoles } from '../../../drizzle/schema/roles.js';
import { moreProblems, problem, problemResponses } from '../../shared/http/openapi.js';

/** Routes that need a caller declare it with the kernel's `...signedIn({ role })` (shared/http/auth.ts). */

export const errors = {
  ...problemResponses,
  409: moreProblems[409],
  415: moreProblems[415],
  429: moreProblems[429],
  503: problem('Password hashing saturated (Retry-After)'),
} as const;

export { idParams, listOf, noContent, ok } from '../../shared/http/openapi.js';

export const TokenPairSchema = z
  .object({ access_token: z.string(), refresh_token: z.string(), token_type: z.literal('Bearer'), expires_in: z.number().int() })
  .openapi('TokenPair');

export const UserSchema = z
  .object({
    id: z.string().uuid(),
    org_id: z.string().uuid(),
    email: z.string(),
    name: z.string(),
    role: z.enum(userRoles),
    is_platform_admin: z.boolean(),
    mfa_enabled: z.boolean(),
    email_verified_at: z.string().nullable(),
    last_login_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('User');


/** An opaque secret from a client: bounded, printable, never logged. */
export const secretString = (max = 512) => z.string().min(1).max(max);
