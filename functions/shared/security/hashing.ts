import { createHash, randomBytes } from 'node:crypto';

/** SHA-256 hex: how refresh tokens, invitation codes, reset tokens and API keys are stored. */
export const sha256Hex = (value: string | Uint8Array) => createHash('sha256').update(value).digest('hex');

/** URL-safe random secret of `bytes` random bytes. */
export const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url');
