import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Context, Env, Hono } from 'hono';
import type { Config } from '../config.js';
import { notFoundProblem } from './app.js';

/**
 * The interactive API reference (Scalar) for a function's OpenAPI document, at /docs.
 *
 * @scalar/hono-api-reference only renders an HTML page; the page then loads the @scalar/api-reference
 * browser bundle from jsDelivr unless `cdn` names another URL (hono.dev/examples/scalar, "Custom CDN";
 * `getScriptTags` in @scalar/client-side-rendering: a `cdn` selects the single-file UMD bundle). So the
 * bundle is served from here, at /docs/scalar.js, read from the installed @scalar/api-reference (a
 * development dependency): the page works offline. Where that package is absent (a production bundle,
 * which carries only what the functions import), the page falls back to the CDN. Scalar's default
 * fonts come from its own font host, so they are turned off: the system fonts need no network.
 */
export const docsEnabled = (config: Pick<Config, 'NODE_ENV' | 'API_DOCS'>) => config.NODE_ENV !== 'production' || config.API_DOCS;

let bundle: Promise<string | undefined> | undefined;
const localBundle = () =>
  (bundle ??= (async () => {
    try {
      return await readFile(createRequire(import.meta.url).resolve('@scalar/api-reference/browser/standalone.js'), 'utf8');
    } catch {
      return undefined;
    }
  })());

export function registerDocs<E extends Env>(app: Hono<E>, name: string): void {
  const enabled = (c: Context<E>) => docsEnabled((c.var as { config: Config }).config);

  app.get('/docs', async (c) => {
    if (!enabled(c)) return notFoundProblem(c);
    // Relative URLs: the function may sit at the host's root (Cloud Functions) or under /<fn> (dev server).
    // Imported on first use: no function's cold start pays for the docs page.
    const { Scalar } = await import('@scalar/hono-api-reference');
    const page = Scalar({
      url: `./openapi.json`,
      pageTitle: `Lattice Lock Cloud — ${name}`,
      withDefaultFonts: false,
      ...((await localBundle()) ? { cdn: './docs/scalar.js' } : {}),
    });
    const res = await page(c as never, async () => {});
    return res ?? notFoundProblem(c);
  });

  app.get('/docs/scalar.js', async (c) => {
    const js = enabled(c) ? await localBundle() : undefined;
    if (!js) return notFoundProblem(c);
    return c.body(js, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=3600' });
  });
}
