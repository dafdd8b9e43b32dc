import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { HttpProblem } from '../../shared/http/index.js';

/**
 * SSRF rule for user-supplied upstream URLs (BYOK base_url, alert webhooks): https only in production,
 * and no private, loopback, link-local, CGNAT, multicast or reserved address after DNS resolution
 * (every address the name resolves to). Loopback stays allowed in development and test, where the fake
 * upstreams live. Checked when the URL is saved and again before each call (DNS may change).
 */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24],
  ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['64:ff9b::', 96], ['100::', 64]] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}
const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it maps. */
function normalise(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = address.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i);
  if (mapped) return { address: mapped[1]!, family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

export function addressAllowed(address: string, allowLoopback: boolean): boolean {
  const { address: a, family } = normalise(address);
  if (loopback.check(a, family)) return allowLoopback;
  return !blocked.check(a, family);
}

export type Resolver = (host: string) => Promise<string[]>;
const systemResolver: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((r) => r.address);

export interface SsrfOptions {
  production: boolean;
  resolve?: Resolver;
  field?: string;
}

export async function assertPublicUrl(raw: string, options: SsrfOptions): Promise<URL> {
  const field = options.field ?? 'base_url';
  const refuse = (why: string) => new HttpProblem(422, 'unsafe-url', `${field} ${why}`, { errors: [{ path: field, message: why }] });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('is not a valid URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && !options.production)) throw refuse(options.production ? 'must use https' : 'must use http or https');
  if (url.username || url.password) throw refuse('must not carry credentials');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await (options.resolve ?? systemResolver)(host);
    } catch {
      throw refuse('does not resolve');
    }
  }
  if (!addresses.length) throw refuse('does not resolve');
  for (const a of addresses) {
    if (!addressAllowed(a, !options.production)) throw refuse('resolves to a private, loopback or link-local address');
  }
  return url;
}
