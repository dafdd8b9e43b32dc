/** Body limits of the contract: 1 MiB everywhere, 8 MiB on the OpenAI-compatible /v1/* routes. */
export const BODY_LIMIT = 1024 * 1024;
export const V1_BODY_LIMIT = 8 * 1024 * 1024;

/** The OpenAI-compatible routes (/v1/*, under any function prefix): their own body limit and error shape. */
export const isOpenAiPath = (path: string) => /(^|\/)v1\//.test(path);

export function bodyLimitFor(path: string): number {
  return isOpenAiPath(path) ? V1_BODY_LIMIT : BODY_LIMIT;
}

/**
 * The embedded artifact store's upload links (npm run dev only): the link's signature fixes the exact
 * size, and the store counts the bytes as they stream, so the JSON body limit does not apply there.
 */
export const isObjectLinkPath = (path: string) => /(^|\/)artifact-objects\//.test(path);
