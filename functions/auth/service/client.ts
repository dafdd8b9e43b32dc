import type { Context } from 'hono';

export interface ClientInfo {
  ip: string;
  userAgent: string | null;
}

/**
 * Functions sit behind Google's front end, which appends the peer to X-Forwarded-For: the first
 * entry is the client as the front end saw it. Without the header the caller is 'unknown'
 * (local runs), never a socket address we cannot trust.
 */
export function clientInfo(c: Context): ClientInfo {
  const first = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
  const ip = first && /^[0-9A-Fa-f:.]{2,45}$/.test(first) ? first : 'unknown';
  const ua = c.req.header('user-agent');
  return { ip, userAgent: ua ? ua.slice(0, 512) : null };
}
