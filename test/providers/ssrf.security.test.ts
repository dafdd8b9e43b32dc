import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressAllowed, assertPublicUrl, createUrlGuard, pinnedLookup, type Resolver } from '../../functions/providers/service/ssrf.js';
import { setLogSink } from '../../functions/shared/http/index.js';
import { startOpenAiUpstream } from '../fakes/openai-upstream.js';
import type { FakeUpstream } from '../fakes/upstream-core.js';
import { call } from '../support/app.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant } from '../support/tenants.js';
import { startGateway, type Gateway } from '../support/gateway.js';

/**
 * SSRF (issue 14 item 6): the address ranges (ipaddr.js's special-purpose registries) in every IPv6
 * form that reaches an IPv4 or local network, and DNS rebinding: a name that answers a public
 * address to the check and a private one to the connection. Nothing here ever opens a socket to
 * anything but 127.0.0.1: a refused address is refused inside the lookup, before any connect.
 */

/** A resolver that answers each call from `answers` in turn (the last one repeats), counting calls. */
function rebinding(answers: string[][]): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = (async (host: string) => {
    calls.push(host);
    return answers[Math.min(calls.length - 1, answers.length - 1)]!;
  }) as Resolver & { calls: string[] };
  resolve.calls = calls;
  return resolve;
}

/** An HTTP server on 127.0.0.1 that counts connections and requests and answers `handler`. */
async function localServer(handler: (url: string) => { status: number; headers?: Record<string, string> }) {
  let connections = 0;
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const { status, headers } = handler(req.url ?? '');
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end('{}');
  });
  server.on('connection', () => void connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { port, requests, connections: () => connections, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('address ranges (production rule)', () => {
  const refused = [
    // IPv4 special ranges, the metadata server among them
    '0.0.0.0', '10.1.2.3', '100.64.0.1', '127.0.0.1', '169.254.169.254', '172.16.0.1', '192.0.0.8', '192.0.2.1', '192.168.1.1', '198.18.0.1', '224.0.0.1', '240.0.0.1', '255.255.255.255',
    // IPv6: unspecified, loopback, link-local, unique-local (AWS metadata fd00:ec2::254), site-local, multicast, documentation
    '::', '::1', 'fe80::1', 'fd00:ec2::254', 'fc00::1', 'fec0::1', 'ff02::1', '2001:db8::1',
    // IPv6 forms that reach IPv4: mapped, IPv4-compatible (deprecated), translated (rfc6145), NAT64 (rfc6052, rfc8215), 6to4, Teredo
    '::ffff:10.0.0.1', '::ffff:169.254.169.254', '::a9fe:a9fe', '::127.0.0.1', '::10.0.0.1', '::8.8.8.8', '::808:808', '::ffff:0:a00:1', '::ffff:0:7f00:1', '64:ff9b::a00:1', '64:ff9b::808:808', '64:ff9b:1::a00:1', '2002:a00:1::1', '2002:808:808::1', '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    // not an address at all
    'localhost', '', '1.2.3', '0x7f.1', '2130706433', 'fe80::1%eth0',
  ];
  it.each(refused)('refuses %s', (address) => {
    expect(addressAllowed(address, false)).toBe(false);
  });

  const allowed = ['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8'];
  it.each(allowed)('allows the public unicast %s', (address) => {
    expect(addressAllowed(address, false)).toBe(true);
  });

  it('loopback (127/8, ::1, mapped) only where it is allowed (development and test)', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      expect(addressAllowed(a, true)).toBe(true);
      expect(addressAllowed(a, false)).toBe(false);
    }
    // Loopback in another form is not the loopback the fakes listen on: refused everywhere.
    expect(addressAllowed('::127.0.0.1', true)).toBe(false);
    expect(addressAllowed('::ffff:0:7f00:1', true)).toBe(false);
  });

  it('property: any private IPv4 address is refused in every IPv6 form that embeds it', () => {
    const hex = (a: number, b: number) => ((a << 8) | b).toString(16);
    const privateV4 = fc.oneof(
      fc.tuple(fc.constant(10), fc.nat(255), fc.nat(255), fc.nat(255)),
      fc.tuple(fc.constant(172), fc.integer({ min: 16, max: 31 }), fc.nat(255), fc.nat(255)),
      fc.tuple(fc.constant(192), fc.constant(168), fc.nat(255), fc.nat(255)),
      fc.tuple(fc.constant(169), fc.constant(254), fc.nat(255), fc.nat(255)),
      fc.tuple(fc.constant(127), fc.nat(255), fc.nat(255), fc.nat(255)),
    );
    fc.assert(
      fc.property(privateV4, ([a, b, c, d]) => {
        const v4 = `${a}.${b}.${c}.${d}`;
        const forms = [v4, `::ffff:${v4}`, `::${v4}`, `::ffff:0:${v4}`, `64:ff9b::${v4}`, `64:ff9b:1::${hex(a, b)}:${hex(c, d)}`, `2002:${hex(a, b)}:${hex(c, d)}::1`];
        for (const form of forms) expect(addressAllowed(form, false), form).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it.each(['[::a9fe:a9fe]', '[::127.0.0.1]', '[64:ff9b:1::a9fe:a9fe]', '[2002:a9fe:a9fe::1]', '[fec0::1]', '[::ffff:0:a9fe:a9fe]', '169.254.169.254', '[fd00:ec2::254]'])(
    'a URL naming %s literally is refused in production (422 unsafe-url)',
    async (host) => {
      await expect(assertPublicUrl(`https://${host}/v1`, { production: true })).rejects.toMatchObject({ status: 422, code: 'unsafe-url' });
    },
  );

  it('metadata.google.internal is refused by name, whatever it resolves to', async () => {
    const resolve = rebinding([['8.8.8.8']]);
    for (const host of ['metadata.google.internal', 'METADATA.GOOGLE.INTERNAL.', 'metadata']) {
      await expect(assertPublicUrl(`https://${host}/computeMetadata/v1`, { production: true, resolve })).rejects.toMatchObject({ status: 422 });
    }
  });
});

describe('pinnedLookup: the lookup every socket of the guard uses', () => {
  const lookupOnce = (lookup: ReturnType<typeof pinnedLookup>, host: string, options: { all?: boolean; family?: number | string }) =>
    new Promise<{ err: Error | null; address: unknown; family?: number }>((resolve) => lookup(host, options as never, (err, address, family) => resolve({ err, address, family })));

  it('answers only checked addresses, in the shape net.connect asks for (all, family)', async () => {
    const lookup = pinnedLookup({ production: true, resolve: async () => ['93.184.215.14', '2606:4700:4700::1111'] });
    expect(await lookupOnce(lookup, 'api.example', { all: true })).toMatchObject({ err: null, address: [{ address: '93.184.215.14', family: 4 }, { address: '2606:4700:4700::1111', family: 6 }] });
    expect(await lookupOnce(lookup, 'api.example', {})).toMatchObject({ err: null, address: '93.184.215.14', family: 4 });
    expect(await lookupOnce(lookup, 'api.example', { family: 6 })).toMatchObject({ err: null, address: '2606:4700:4700::1111', family: 6 });
  });

  it('refuses the name when any answer is refused (no socket to a public half of a mixed answer either)', async () => {
    const lookup = pinnedLookup({ production: true, resolve: async () => ['93.184.215.14', '10.0.0.5'] });
    const { err } = await lookupOnce(lookup, 'mixed.example', { all: true });
    expect(err).toMatchObject({ name: 'UnsafeAddressError' });
  });
});

describe('DNS rebinding: the connection goes only to an address checked at connect time', () => {
  let server: Awaited<ReturnType<typeof localServer>>;
  beforeAll(async () => {
    server = await localServer((url) => (url === '/redirect' ? { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } } : { status: 200 }));
  });
  afterAll(() => server.close());

  it('connects through the guard lookup: a name no system DNS knows reaches the loopback fake it was resolved to', async () => {
    const resolve = rebinding([['127.0.0.1']]);
    const guard = createUrlGuard({ production: false, resolve });
    const res = await guard.fetch(`http://upstream.rebind.test:${server.port}/ok`, { method: 'GET' });
    expect(res.status).toBe(200);
    expect(resolve.calls).toEqual(['upstream.rebind.test']);
    expect(server.requests).toContain('/ok');
  });

  it('production: public to the check, loopback to the connection → refused in the lookup, no connection made', async () => {
    const resolve = rebinding([['93.184.215.14'], ['127.0.0.1']]);
    const guard = createUrlGuard({ production: true, resolve });
    const before = server.connections();
    await expect(guard.check(`https://rebind.test:${server.port}/v1`)).resolves.toBeInstanceOf(URL);
    const err = await guard.fetch(`https://rebind.test:${server.port}/v1/models`, { method: 'GET' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error & { cause?: Error }).cause).toMatchObject({ name: 'UnsafeAddressError' });
    expect(resolve.calls).toEqual(['rebind.test', 'rebind.test']);
    expect(server.connections()).toBe(before);
  });

  it('test mode: loopback to the check, a private address to the connection → refused, no connection made', async () => {
    const resolve = rebinding([['127.0.0.1'], ['10.20.30.40']]);
    const guard = createUrlGuard({ production: false, resolve });
    await guard.check(`http://rebind.test:${server.port}/v1`);
    const err = await guard.fetch(`http://rebind.test:${server.port}/v1/models`, { method: 'GET' }).catch((e: Error) => e);
    expect((err as Error & { cause?: Error }).cause).toMatchObject({ name: 'UnsafeAddressError' });
  });

  it('a redirect is never followed: the 302 comes back as is, its Location never fetched', async () => {
    const guard = createUrlGuard({ production: false, resolve: rebinding([['127.0.0.1']]) });
    const before = server.requests.length;
    const res = await guard.fetch(`http://upstream.rebind.test:${server.port}/redirect`, { method: 'GET', redirect: 'follow' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('http://169.254.169.254/latest/meta-data/');
    expect(server.requests.length).toBe(before + 1);
  });

  it('an IP literal is judged before any socket: http://[::a9fe:a9fe] in production', async () => {
    const guard = createUrlGuard({ production: true, resolve: rebinding([['8.8.8.8']]) });
    await expect(guard.fetch('https://[::a9fe:a9fe]/latest', { method: 'GET' })).rejects.toMatchObject({ status: 422 });
  });
});

describe("the gateway's pooled transport (urlGuard.request) keeps the same rule", () => {
  let server: Awaited<ReturnType<typeof localServer>>;
  beforeAll(async () => {
    server = await localServer((url) => (url === '/redirect' ? { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } } : { status: 200 }));
  });
  afterAll(() => server.close());

  it('connects through the guard lookup, and keep-alive reuses the connections it checked', async () => {
    const resolve = rebinding([['127.0.0.1']]);
    const guard = createUrlGuard({ production: false, resolve });
    const before = server.connections();
    for (let i = 0; i < 3; i++) {
      const res = await guard.request(`http://pooled.rebind.test:${server.port}/ok?i=${i}`, { method: 'GET' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({});
    }
    // Every connection was opened through the guard's lookup, and keep-alive kept their number below the calls'.
    expect(resolve.calls.every((h) => h === 'pooled.rebind.test')).toBe(true);
    expect(server.connections() - before).toBe(resolve.calls.length);
    expect(resolve.calls.length).toBeLessThan(3);
  });

  it('production: public to the check, loopback to the connection → refused in the lookup, no connection made', async () => {
    const resolve = rebinding([['93.184.215.14'], ['127.0.0.1']]);
    const guard = createUrlGuard({ production: true, resolve });
    const before = server.connections();
    await guard.check(`https://rebind-pool.test:${server.port}/v1`);
    const err = await guard.request(`https://rebind-pool.test:${server.port}/v1/models`, { method: 'GET' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error & { cause?: Error }).cause ?? err).toMatchObject({ name: 'UnsafeAddressError' });
    expect(server.connections()).toBe(before);
  });

  it('a redirect is never followed: the 302 comes back as is', async () => {
    const guard = createUrlGuard({ production: false, resolve: rebinding([['127.0.0.1']]) });
    const before = server.requests.length;
    const res = await guard.request(`http://pooled.rebind.test:${server.port}/redirect`, { method: 'GET' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('http://169.254.169.254/latest/meta-data/');
    await res.body?.cancel();
    expect(server.requests.length).toBe(before + 1);
  });

  it('an IP literal is judged before any socket', async () => {
    const guard = createUrlGuard({ production: true, resolve: rebinding([['8.8.8.8']]) });
    await expect(guard.request('https://[::a9fe:a9fe]/latest', { method: 'GET' })).rejects.toMatchObject({ status: 422 });
  });
});

const { database } = await createTestDatabase();

describe('DNS rebinding through the gateway: a BYOK base_url that turns private after it was saved', () => {
  let upstream: FakeUpstream;
  let gw: Gateway;
  let previousSink: (line: string) => void;
  // Calls 1–2 (saving the key, the check before the call) answer loopback, where the fake listens;
  // from then on (the connection's own lookup, and its retries) the name answers a private address.
  const resolve = rebinding([['127.0.0.1'], ['127.0.0.1'], ['10.9.8.7']]);

  beforeAll(async () => {
    previousSink = setLogSink(() => {});
    upstream = await startOpenAiUpstream();
    gw = await startGateway(database, { platformKeys: {}, resolve });
  });
  afterAll(async () => {
    setLogSink(previousSink);
    await gw.close();
    await upstream.close();
  });

  it('the key is saved and checked against loopback, the call is refused at connect: 502, and the upstream never sees it', async () => {
    const t = await createTenant(database, { role: 'member' });
    const base_url = `http://byok.rebind.test:${upstream.port}/v1`;
    const created = await call(gw.app, 'POST', '/keys', { token: t.token, body: { provider: 'openai_compatible', name: 'rebind', api_key: 'sk-rebind-0123456789abcdef', base_url } });
    expect(created.status).toBe(201);
    const client = new OpenAI({ apiKey: t.token, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const err = await client.chat.completions.create({ model: 'rebind/some-model', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(502);
    expect(resolve.calls.length).toBeGreaterThanOrEqual(3);
    expect(upstream.requests).toEqual([]);
  });
});
