/** Body limits of the contract: 1 MiB everywhere, 8 MiB on the OpenAI-compatible /v1/* routes. */
export const BODY_LIMIT = 1024 * 1024;
export const V1_BODY_LIMIT = 8 * 1024 * 1024;

export function bodyLimitFor(path: string): number {
  return /(^|\/)v1\//.test(path) ? V1_BODY_LIMIT : BODY_LIMIT;
}
