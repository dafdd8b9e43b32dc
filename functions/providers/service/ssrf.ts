import { lookup } from 'node:dns/promises';
import type { LookupAddress, LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { providerProblems } from './errors.js';
import { loadUndici, poolTransport, type Transport } from './transport.js';

/**
 * SSRF rule for user-supplied upstream URLs (BYOK base_url, alert webhooks): https only in production,
 * and only public unicast addresses after DNS resolution (every address the name resolves to).
 * Loopback stays allowed in development and test, where the fake upstreams live.
 *
 * The ranges are ipaddr.js's (a maintained list of IANA special-purpose registries): an address is
 * allowed only when ipaddr.js names its range `unicast`, and an IPv6 address also only inside
 * 2000::/3 (global unicast). That refuses private, CGNAT, link-local (169.254.169.254 metadata),
 * reserved, benchmarking, multicast, unspecified; IPv6 unique-local (fd00:ec2::254 metadata),
 * link-local, site-local fec0::/10, NAT64 64:ff9b::/96 and 64:ff9b:1::/48 (rfc6052), 6to4
 * 2002::/16, Teredo 2001::/32, IPv4-translated ::ffff:0:a.b.c.d (rfc6145) and the deprecated
 * IPv4-compatible ::a.b.c.d (::a9fe:a9fe, ::127.0.0.1: outside 2000::/3). IPv4-mapped ::ffff:a.b.c.d
 * is judged as the IPv4 address it maps (ipaddr.process).
 *
 * Checking a URL is not enough on its own: a name can answer a public address to the check and a
 * private one to the connection (DNS rebinding). `guardedFetch` therefore connects only to addresses
 * validated at connect time, by the lookup the socket itself uses (see pinnedLookup).
 */
const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3') as [ipaddr.IPv6, number];

/** Names that are metadata servers whatever they resolve to (GCE, and its short form). */
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata', 'metadata.goog']);

/**
 * The address in a form ipaddr.js reads as the socket would: IPv6 goes through the WHATWG parser
 * first, because ipaddr.js 2.5 reads an embedded dotted quad as IPv4-mapped (`::8.8.8.8` as
 * `::ffff:8.8.8.8`), while the socket connects to the IPv4-compatible `::808:808`. net.isIP, not
 * ipaddr.isValid, decides what is an address: the latter also takes legacy forms (1.2.3, 0x7f.1).
 */
function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const version = isIP(address);
  if (version === 0) return undefined;
  try {
    return ipaddr.process(version === 4 ? address : new URL(`http://[${address}]/`).hostname.slice(1, -1));
  } catch {
    return undefined; // zone ids (fe80::1%eth0) and anything URL cannot hold
  }
}

export function addressAllowed(address: string, allowLoopback: boolean): boolean {
  const ip = parseAddress(address);
  if (!ip) return false;
  const range = ip.range();
  if (range === 'loopback') return allowLoopback;
  if (range !== 'unicast') return false;
  return ip.kind() === 'ipv4' || (ip as ipaddr.IPv6).match(GLOBAL_UNICAST);
}

export type Resolver = (host: string) => Promise<string[]>;
const systemResolver: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((r) => r.address);

export interface SsrfOptions {
  production: boolean;
  resolve?: Resolver;
  field?: string;
}

/** Refusals name the field and never the address (no probing of what a name resolves to). */
const refusal = providerProblems.unsafeUrl;

const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();

/** The URL's form: scheme, no credentials, not a metadata name; an IP literal is judged here. */
function checkForm(raw: string, production: boolean, field: string): { url: URL; host: string; literal: boolean } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refusal(field, 'is not a valid URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && !production)) throw refusal(field, production ? 'must use https' : 'must use http or https');
  if (url.username || url.password) throw refusal(field, 'must not carry credentials');
  const host = hostOf(url);
  if (METADATA_NAMES.has(host)) throw refusal(field, 'names a metadata server');
  const literal = isIP(host) !== 0;
  if (literal && !addressAllowed(host, !production)) throw refusal(field, 'resolves to a private, loopback or link-local address');
  return { url, host, literal };
}

export async function assertPublicUrl(raw: string, options: SsrfOptions): Promise<URL> {
  const field = options.field ?? 'base_url';
  const { url, host, literal } = checkForm(raw, options.production, field);
  if (literal) return url;
  let addresses: string[];
  try {
    addresses = await (options.resolve ?? systemResolver)(host);
  } catch {
    throw refusal(field, 'does not resolve');
  }
  if (!addresses.length) throw refusal(field, 'does not resolve');
  for (const a of addresses) {
    if (!addressAllowed(a, !options.production)) throw refusal(field, 'resolves to a private, loopback or link-local address');
  }
  return url;
}

export class UnsafeAddressError extends Error {
  override name = 'UnsafeAddressError';
  readonly code = 'EUNSAFEADDRESS';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net.connect / tls.connect (the signature of dns.lookup) that resolves with
 * `resolve` and answers only addresses that pass the rule: if any answer is refused, the name is
 * refused (as in assertPublicUrl), so the socket can only ever open to an address checked here.
 * Honours `all` (Node's happy-eyeballs connect asks for every address) and `family`.
 */
export function pinnedLookup(options: { production: boolean; resolve?: Resolver }) {
  const resolve = options.resolve ?? systemResolver;
  return (hostname: string, lookupOptions: LookupOneOptions & { all?: boolean }, callback: LookupCallback): void => {
    const host = hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
    resolve(host).then(
      (addresses) => {
        const refused = METADATA_NAMES.has(host) || !addresses.length || addresses.some((a) => !addressAllowed(a, !options.production));
        if (refused) return callback(new UnsafeAddressError(`${host} resolves to an address the SSRF rule refuses`), '', 0);
        const family = lookupOptions?.family === 'IPv4' ? 4 : lookupOptions?.family === 'IPv6' ? 6 : Number(lookupOptions?.family ?? 0);
        const answers = addresses.map((address) => ({ address, family: isIP(address) })).filter((a) => a.family !== 0 && (!family || a.family === family));
        if (!answers.length) return callback(Object.assign(new Error(`${host}: no address of family ${family}`), { code: 'ENOTFOUND' }), '', 0);
        if (lookupOptions?.all) return callback(null, answers);
        callback(null, answers[0]!.address, answers[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface UrlGuard {
  production: boolean;
  /** The SSRF rule on a URL before it is saved or used (422 unsafe-url). */
  check(raw: string, field?: string): Promise<URL>;
  /**
   * fetch that connects only to addresses the rule allows, checked by the socket's own lookup, and
   * never follows a redirect (a 3xx is returned as is: its Location was never checked).
   */
  fetch: FetchLike;
  /**
   * The gateway's upstream transport (transport.ts: a keep-alive undici Pool per origin) under the same
   * rule: every pool connects through the validating lookup, IP literals are judged before any socket,
   * and no redirect is followed.
   */
  request: Transport;
}

/**
 * undici's own fetch with its own Agent (one package, one version): Node's built-in fetch runs the
 * undici it bundles, and a dispatcher from another undici major is not interface-compatible with it
 * (e.g. undici 8's Agent throws "invalid onRequestStart method" under Node 22's undici 6:
 * elie222/rakazo#875, openai/openai-node#1898, vercel/vercel#17629). undici 7's buildConnector
 * spreads the Agent's `connect` options into net.connect / tls.connect (lib/core/connect.js), so
 * `connect.lookup` is the lookup every new socket of this Agent uses; keep-alive reuses only
 * sockets opened that way. Loaded on first use: most instances never call a user's URL.
 */
export function createUrlGuard(options: { production: boolean; resolve?: Resolver }): UrlGuard {
  let transport: Promise<FetchLike> | undefined;
  const lookup = pinnedLookup(options);
  const pooled = poolTransport({ connect: { lookup } });
  const load = () =>
    (transport ??= loadUndici().then(({ Agent, fetch }) => {
      const dispatcher = new Agent({ connect: { lookup: lookup as never } });
      return ((url: string, init: RequestInit) => fetch(url, { ...(init as object), dispatcher, redirect: 'manual' }) as unknown as Promise<Response>) as FetchLike;
    }));
  return {
    production: options.production,
    check: (raw, field) => assertPublicUrl(raw, { production: options.production, resolve: options.resolve, field }),
    async fetch(url, init) {
      // IP literals never reach a lookup: they are judged here, before any socket exists.
      checkForm(url, options.production, 'url');
      return (await load())(url, init);
    },
    async request(url, init) {
      checkForm(url, options.production, 'url');
      return pooled(url, init);
    },
  };
}
