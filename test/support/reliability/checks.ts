import { readResponse } from '../app.js';
import { isV1 } from './openapi.js';

export interface Exchange {
  fn: string;
  method: string;
  path: string;
  status: number;
  contentType: string | null;
  text: string;
  json: any;
  label: string;
  /** What was sent, kept for the secret scan. */
  requestBody?: string;
}

/**
 * What every response must be, whatever was sent: never a 5xx (the suite's inputs are client
 * mistakes and attacks, not outages), and every error in the contract's shape — problem+json, or
 * on /v1/* OpenAI's `error` object beside the problem members — with no stack trace.
 */
export function violations(x: Exchange): string[] {
  const out: string[] = [];
  const where = `${x.fn} ${x.method} ${x.path} [${x.label}] → ${x.status}`;
  if (x.status >= 500) out.push(`${where}: server error ${x.text.slice(0, 300)}`);
  if (/\bat .+\.(ts|js|mjs):\d+/.test(x.text)) out.push(`${where}: stack trace in body`);
  if (x.status >= 400) {
    const b = x.json;
    const problemMembers = b && typeof b === 'object' && typeof b.type === 'string' && typeof b.title === 'string' && b.status === x.status && typeof b.detail === 'string' && typeof b.instance === 'string';
    if (isV1(x.path)) {
      if (!x.contentType?.startsWith('application/json')) out.push(`${where}: /v1 error content-type ${x.contentType}`);
      if (!(b?.error && typeof b.error.message === 'string' && typeof b.error.type === 'string')) out.push(`${where}: /v1 error without OpenAI error object: ${x.text.slice(0, 200)}`);
      if (!problemMembers) out.push(`${where}: /v1 error without problem members: ${x.text.slice(0, 200)}`);
    } else {
      if (!x.contentType?.startsWith('application/problem+json')) out.push(`${where}: error content-type ${x.contentType}: ${x.text.slice(0, 200)}`);
      if (!problemMembers) out.push(`${where}: not a problem body: ${x.text.slice(0, 200)}`);
    }
  }
  return out;
}

export async function send(
  app: { request: (input: string, init?: RequestInit) => Response | Promise<Response> },
  fn: string,
  label: string,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string | Uint8Array } = {},
): Promise<Exchange> {
  const res = await app.request(path, { method, headers: init.headers, body: init.body as BodyInit | undefined });
  const { text, json } = await readResponse(res);
  const requestBody = typeof init.body === 'string' ? init.body : undefined;
  return { fn, method, path, status: res.status, contentType: res.headers.get('content-type'), text, json, label, requestBody };
}
