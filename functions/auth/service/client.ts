import type { Context } from 'hono';
import { clientIp } from '../../shared/http/client-ip.js';

export interface ClientInfo {
  ip: string;
  userAgent: string | null;
}

/** Who is calling, for rate limits, sessions and audit rows: the address decided by the kernel (client-ip.ts). */
export function clientInfo(c: Context): ClientInfo {
  const ua = c.req.header('user-agent');
  return { ip: clientIp(c), userAgent: ua ? ua.slice(0, 512) : null };
}
