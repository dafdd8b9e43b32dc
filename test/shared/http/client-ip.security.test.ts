/**
 * The client address from X-Forwarded-For, counted from the right: Google's front end appends the
 * peer it saw (cloud.google.com/functions/docs/reference/headers: "clientIp, proxy1Ip, proxy2Ip"; an
 * external Application Load Balancer appends "<client-ip>,<load-balancer-ip>",
 * cloud.google.com/load-balancing/docs/https), so only the last TRUSTED_PROXY_HOPS entries are trusted.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../../functions/shared/http/client-ip.js';
import { loadConfig } from '../../../functions/shared/config.js';

describe('clientAddress', () => {
  it.each([
    ['the front end alone: the only entry', '203.0.113.9', 1, '203.0.113.9'],
    ['a spoofed first entry is ignored', '8.8.8.8, 203.0.113.9', 1, '203.0.113.9'],
    ['several spoofed entries are ignored', '1.1.1.1,2.2.2.2 ,  8.8.8.8,203.0.113.9', 1, '203.0.113.9'],
    ['behind a load balancer (2 hops): the entry before the balancer', '8.8.8.8, 203.0.113.9, 34.120.0.1', 2, '203.0.113.9'],
    ['fewer entries than hops: the leftmost was written by a trusted proxy', '203.0.113.9', 2, '203.0.113.9'],
    ['IPv6 in canonical lower case', '8.8.8.8, 2001:DB8::0:1', 1, '2001:db8::1'],
    ['IPv4-mapped IPv6 as IPv4', '::ffff:198.51.100.7', 1, '198.51.100.7'],
    ['an impossible IPv4 is not an address', '10.9.2633.1', 1, undefined],
    ['a host name is not an address', '8.8.8.8, evil.example', 1, undefined],
    ['an address with a port is not an address', '203.0.113.9:443', 1, undefined],
    ['a bracketed IPv6 is not an address', '[2001:db8::1]', 1, undefined],
    ['script in the header', '<script>', 1, undefined],
    ['an empty header', ' , ', 1, undefined],
    ['no header', undefined, 1, undefined],
  ])('%s', (_name, header, hops, expected) => {
    expect(clientAddress(header, hops, '10.0.0.5')).toBe(expected);
  });

  it('0 hops (the dev server) uses the socket peer and ignores the header entirely', () => {
    expect(clientAddress('8.8.8.8', 0, '127.0.0.1')).toBe('127.0.0.1');
    expect(clientAddress('8.8.8.8', 0, '::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(clientAddress('8.8.8.8', 0, undefined)).toBeUndefined();
  });

  it('nothing the client writes left of the trusted entries changes the answer', () => {
    const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
    const junk = fc.oneof(ipv4, fc.ipV6(), fc.string({ maxLength: 40 }).filter((s) => !s.includes(',')));
    fc.assert(
      fc.property(fc.array(junk, { maxLength: 8 }), ipv4, fc.array(ipv4, { maxLength: 3 }), (forged, real, proxies) => {
        const header = [...forged, real, ...proxies].join(', ');
        expect(clientAddress(header, proxies.length + 1, undefined)).toBe(real);
      }),
    );
  });

  it('TRUSTED_PROXY_HOPS defaults to 1 (a function behind Google\'s front end) and accepts 0..10', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).TRUSTED_PROXY_HOPS).toBe(1);
    expect(loadConfig({ NODE_ENV: 'test', TRUSTED_PROXY_HOPS: '0' }).TRUSTED_PROXY_HOPS).toBe(0);
    expect(() => loadConfig({ NODE_ENV: 'test', TRUSTED_PROXY_HOPS: '-1' })).toThrow(/TRUSTED_PROXY_HOPS/);
  });
});
