import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { call } from '../support/app.js';
import { authHarness, PASSWORD } from '../support/auth.js';

/**
 * The production Mailer (nodemailer over SMTP, TLS required) against a real SMTP server from the
 * `smtp-server` package on a local port, with a certificate made for this run: the mail arrives, its link
 * carries a token that works once, and no token reaches the logs.
 */
const USER = 'lattice-mailer';
const SMTP_PASSWORD = 'smtp-password-for-the-test-relay';
const BASE_URL = 'https://app.lattice.test';

const dir = mkdtempSync(join(tmpdir(), 'lattice-smtp-'));
// A self-signed certificate for "localhost", the SMTP_HOST the mailer verifies it against.
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
  '-addext', 'subjectAltName=DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
const key = readFileSync(join(dir, 'key.pem'));
const cert = readFileSync(join(dir, 'cert.pem'));

interface Received {
  from: string;
  to: string[];
  raw: string;
}

async function startSmtp(options: Partial<SMTPServerOptions>) {
  const inbox: Received[] = [];
  const logins: string[] = [];
  const waiting: Array<(m: Received) => void> = [];
  const server = new SMTPServer({
    key,
    cert,
    logger: false,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, cb) {
      logins.push(auth.username ?? '');
      if (auth.username === USER && auth.password === SMTP_PASSWORD) cb(null, { user: USER });
      else cb(Object.assign(new Error('invalid credentials'), { responseCode: 535 }));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const mail = { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') };
        inbox.push(mail);
        waiting.shift()?.(mail);
        cb();
      });
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    inbox,
    logins,
    /** The next mail, or one already received that the caller has not taken. */
    next: (taken: number) => (inbox.length > taken ? Promise.resolve(inbox[taken]!) : new Promise<Received>((resolve) => waiting.push(resolve))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Quoted-printable soft breaks and escapes (RFC 2045 §6.7), which nodemailer uses for long text lines. */
const unQuotedPrintable = (s: string) => s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));

/** The text/plain part of a raw message, decoded. */
function textPart(raw: string): string {
  const m = /Content-Type: text\/plain[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*?\r?\n([\s\S]*?)\r?\n--/i.exec(raw);
  if (!m) throw new Error(`no text/plain part in:\n${raw.slice(0, 500)}`);
  return /Content-Transfer-Encoding: quoted-printable/i.test(raw.slice(m.index, m.index + 300)) ? unQuotedPrintable(m[1]!) : m[1]!;
}

/** The link of a mail and the fragment parameters it carries. */
function linkOf(raw: string, path: string): { url: URL; params: URLSearchParams } {
  const href = new RegExp(`${BASE_URL.replace(/\./g, '\\.')}/${path}#[A-Za-z0-9_=&.%-]+`).exec(textPart(raw))?.[0];
  if (!href) throw new Error(`no ${path} link in:\n${textPart(raw)}`);
  const url = new URL(href);
  return { url, params: new URLSearchParams(url.hash.slice(1)) };
}

/** Everything written to stdout/stderr while a test runs (the functions' JSON logs go there). */
const output: string[] = [];
let restore: () => void;
beforeAll(() => {
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (output.push(String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (output.push(String(chunk)), true));
  const level = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = 'debug';
  restore = () => {
    out.mockRestore();
    err.mockRestore();
    process.env.LOG_LEVEL = level;
  };
});
afterAll(() => {
  restore();
  rmSync(dir, { recursive: true, force: true });
});

const smtpEnv = (port: number) => ({
  MAILER: 'smtp',
  SMTP_HOST: 'localhost',
  SMTP_PORT: String(port),
  SMTP_USER: USER,
  SMTP_PASSWORD,
  SMTP_CA: cert.toString('utf8'),
  MAIL_FROM: 'Lattice Lock <no-reply@lattice.test>',
  PUBLIC_BASE_URL: BASE_URL,
});

describe.each([
  ['implicit TLS (port 465 style)', { secure: true }, true],
  ['STARTTLS', { secure: false }, false],
] as const)('mail over %s', (_label, serverOptions, implicit) => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let h: Awaited<ReturnType<typeof authHarness>>;
  let taken = 0;
  const tokens: string[] = [];
  beforeAll(async () => {
    smtp = await startSmtp(serverOptions);
    // nodemailer uses implicit TLS on 465 only; this server's port is random, so the implicit-TLS case
    // is the mailer's 465 path pointed at it (SMTP_PORT=465 would need root): covered by forcing secure.
    h = await authHarness({ env: smtpEnv(smtp.port), configuredMailer: true });
    if (implicit) {
      const { smtpMailer } = await import('../../functions/auth/service/smtp-mailer.js');
      const mailer = smtpMailer({ host: 'localhost', port: smtp.port, user: USER, password: SMTP_PASSWORD, from: 'no-reply@lattice.test', baseUrl: BASE_URL, ca: cert.toString('utf8'), secure: true });
      (h.services as { mailer: typeof mailer }).mailer = mailer;
    }
  });
  afterAll(() => smtp.close());

  it('sends the verification mail the schema models, whose token verifies the address once', async () => {
    const { code } = await h.invitation({ role: 'owner' });
    const email = `ada-${implicit ? 'tls' : 'starttls'}@example.test`;
    const reg = await call(h.app, 'POST', '/register', { body: { invitation_code: code, email, password: PASSWORD, name: 'Ada' } });
    expect(reg.status).toBe(201);
    expect(reg.json.email_verified_at).toBeNull();
    const mail = await smtp.next(taken++);
    expect(mail.to).toEqual([email]);
    expect(mail.raw).toMatch(/Subject: Confirm your email address/);
    expect(mail.raw).toMatch(/Content-Type: text\/html/);
    const { params } = linkOf(mail.raw, 'verify-email');
    const token = params.get('token')!;
    tokens.push(token);
    const first = await call(h.app, 'POST', '/email/verify', { body: { token } });
    expect(first.status).toBe(200);
    expect(first.json.email_verified_at).toEqual(expect.any(String));
    const again = await call(h.app, 'POST', '/email/verify', { body: { token } });
    expect(again.status).toBe(400);
    expect(again.json.type).toBe('urn:lattice-lock:problem:invalid-verification-token');
    // nor does any other token type pass for it
    const login = await call(h.app, 'POST', '/login', { body: { email, password: PASSWORD } });
    const asAccess = await call(h.app, 'POST', '/email/verify', { body: { token: login.json.access_token } });
    expect(asAccess.status).toBe(400);
    // a verified address gets no further mail
    const resend = await call(h.app, 'POST', '/email/verification', { token: login.json.access_token });
    expect(resend.json).toEqual({ status: 'already_verified' });
  });

  it('mails a password reset link whose token works once', async () => {
    const u = await h.user({ email: `grace-${implicit ? 'tls' : 'starttls'}@example.test` });
    taken = smtp.inbox.length;
    const forgot = await call(h.app, 'POST', '/password/forgot', { body: { email: u.email } });
    expect(forgot.status).toBe(202);
    // the answer comes after the send: the mail is in the inbox already
    expect(smtp.inbox.length).toBe(taken + 1);
    const mail = await smtp.next(taken++);
    expect(mail.to).toEqual([u.email]);
    const { params } = linkOf(mail.raw, 'reset-password');
    const token = params.get('token')!;
    tokens.push(token);
    expect((await call(h.app, 'POST', '/password/reset', { body: { token, new_password: 'another-long-passphrase-77' } })).status).toBe(204);
    expect((await call(h.app, 'POST', '/password/reset', { body: { token, new_password: 'yet-another-passphrase-78' } })).status).toBe(400);
  });

  it('mails an invitation whose code registers that address once', async () => {
    const admin = await h.user({ role: 'owner' });
    taken = smtp.inbox.length;
    const invitee = `lin-${implicit ? 'tls' : 'starttls'}@example.test`;
    const created = await call(h.app, 'POST', '/invitations', { token: admin.token, body: { email: invitee, role: 'member' } });
    expect(created.status).toBe(201);
    expect(created.json.mailed).toBe(true);
    const mail = await smtp.next(taken++);
    expect(mail.to).toEqual([invitee]);
    expect(mail.raw).toMatch(/Subject: Join /);
    const code = linkOf(mail.raw, 'register').params.get('invitation_code')!;
    expect(code).toBe(created.json.invitation_code);
    tokens.push(code);
    const body = { invitation_code: code, email: invitee, password: PASSWORD, name: 'Lin' };
    expect((await call(h.app, 'POST', '/register', { body })).status).toBe(201);
    expect((await call(h.app, 'POST', '/register', { body: { ...body, email: `other-${invitee}` } })).status).toBeGreaterThanOrEqual(400);
  });

  it('authenticated with the configured account inside TLS, and logged no token, code or SMTP password', () => {
    expect(smtp.logins.length).toBeGreaterThan(0);
    expect(new Set(smtp.logins)).toEqual(new Set([USER]));
    expect(tokens.length).toBe(3);
    const logs = output.join('');
    for (const secret of [...tokens, SMTP_PASSWORD]) expect(logs).not.toContain(secret);
  });
});

describe('TLS is required', () => {
  it('sends nothing, and never the password, to a server that offers no TLS', async () => {
    const smtp = await startSmtp({ secure: false, disabledCommands: ['STARTTLS'], allowInsecureAuth: true });
    try {
      const h = await authHarness({ env: smtpEnv(smtp.port), configuredMailer: true });
      const u = await h.user();
      const before = output.length;
      const forgot = await call(h.app, 'POST', '/password/forgot', { body: { email: u.email } });
      expect(forgot.status).toBe(202); // the same answer whatever happened to the mail
      expect(smtp.inbox).toEqual([]);
      expect(smtp.logins).toEqual([]);
      const logged = output.slice(before).join('');
      expect(logged).toContain('password reset mail failed');
      expect(logged).not.toContain(SMTP_PASSWORD);
    } finally {
      await smtp.close();
    }
  });

  it('refuses a certificate it cannot verify', async () => {
    const smtp = await startSmtp({ secure: false });
    try {
      const { SMTP_CA: _ca, ...withoutCa } = smtpEnv(smtp.port);
      const h = await authHarness({ env: withoutCa, configuredMailer: true });
      const u = await h.user();
      await call(h.app, 'POST', '/password/forgot', { body: { email: u.email } });
      expect(smtp.inbox).toEqual([]);
      expect(smtp.logins).toEqual([]);
    } finally {
      await smtp.close();
    }
  });
});
