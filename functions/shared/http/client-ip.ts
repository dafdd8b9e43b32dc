import { isIP } from 'node:net';
import type { Context } from 'hono';

/**
 * The client's address, decided in one place for every rate limit and audit row.
 *
 * Google's front end writes the address it received the connection from at the right of
 * X-Forwarded-For; anything to its left came from the client and proves nothing ("X-Forwarded-For:
 * clientIp, proxy1Ip, proxy2Ip", cloud.google.com/functions/docs/reference/headers; an external
 * Application Load Balancer appends "<client-ip>,<load-balancer-ip>" after whatever the client sent,
 * cloud.google.com/load-balancing/docs/https). So we count TRUSTED_PROXY_HOPS entries from the right:
 * 1 for a function reached on its own URL, one more per load balancer in front, 0 where no proxy
 * exists (the dev server: the socket's peer is the client).
 *
 * @example
 * clientAddress('8.8.8.8, 203.0.113.9', 1, undefined) // '203.0.113.9': the forged first entry is ignored
 */
export function clientAddress(forwardedFor: string | undefined, hops: number, socketAddress: string | undefined): string | undefined {
  if (hops <= 0) return normalise(socketAddress);
  const entries = (forwardedFor ?? '').split(',').map((e) => e.trim()).filter(Boolean);
  if (!entries.length) return undefined;
  // Fewer entries than trusted hops: every entry was written by a trusted proxy, the leftmost is the client.
  return normalise(entries[Math.max(0, entries.length - hops)]);
}

/** A valid IP in canonical form (IPv4-mapped IPv6 as IPv4, IPv6 lower case), else undefined. */
function normalise(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(raw);
  const candidate = mapped ? mapped[1]! : raw;
  const family = isIP(candidate);
  if (family === 4) return candidate;
  if (family === 6) return new URL(`http://[${candidate}]/`).hostname.slice(1, -1);
  return undefined;
}

/** The request's client address, or 'unknown' (no trusted header, or not an IP: never stored as given). */
export function clientIp(c: Context): string {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  const hops = c.get('config')?.TRUSTED_PROXY_HOPS ?? 1;
  return clientAddress(c.req.header('x-forwarded-for'), hops, incoming?.socket?.remoteAddress) ?? 'unknown';
}
