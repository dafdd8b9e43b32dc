import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emailVerificationMail, invitationMail, link, passwordResetMail } from '../../functions/auth/service/mail-templates.js';
import { openMailer } from '../../functions/auth/services.js';
import { ConfigError } from '../../functions/shared/config.js';
import { testConfig } from '../support/app.js';

const expiresAt = new Date('2026-12-03T10:00:00Z');

describe('mail templates', () => {
  it('carry the token in the link fragment (never sent to a server), in both the text and the HTML part', () => {
    for (const [mail, path] of [
      [passwordResetMail('https://app.example.com', { to: 'a@example.com', token: 'tok_ABC-123', expiresAt }), 'reset-password#token=tok_ABC-123'],
      [emailVerificationMail('https://app.example.com/', { to: 'a@example.com', token: 'tok_ABC-123', expiresAt }), 'verify-email#token=tok_ABC-123'],
      [invitationMail('https://app.example.com', { to: 'a@example.com', code: 'tok_ABC-123', expiresAt, organization: 'Acme', role: 'member' }), 'register#invitation_code=tok_ABC-123'],
    ] as const) {
      expect(mail.text).toContain(`https://app.example.com/${path}`);
      expect(mail.html).toContain(`https://app.example.com/${path}`);
      expect(mail.text).toContain('2026-12-03 10:00:00 UTC');
      expect(mail.subject.length).toBeGreaterThan(5);
    }
  });

  it('escape whatever an organization is named in the HTML part', () => {
    fc.assert(
      fc.property(fc.string(), (organization) => {
        const { html, text } = invitationMail('https://app.example.com', { to: 'a@example.com', code: 'c', expiresAt, organization, role: 'viewer' });
        expect(text).toContain(organization);
        const body = html.slice(html.indexOf('<body'));
        // no markup from the name: every < in the body is one of the template's own tags
        expect(body.replace(/<\/?(body|h1|p|a|html)\b[^>]*>/g, '')).not.toMatch(/[<>]/);
      }),
    );
  });

  it('keep a path under the base URL', () => {
    expect(link('https://example.com/app', 'verify-email', { token: 'x' })).toBe('https://example.com/app/verify-email#token=x');
  });
});

describe('mailer selection', () => {
  it('is the log mailer by default and SMTP when configured; SMTP without its settings is refused, naming them', async () => {
    expect((await openMailer(testConfig())).kind).toBe('log');
    expect((await openMailer(testConfig({ MAILER: 'smtp', SMTP_HOST: 'smtp.example.com', SMTP_USER: 'u', SMTP_PASSWORD: 'p', MAIL_FROM: 'x@example.com', PUBLIC_BASE_URL: 'https://app.example.com' }))).kind).toBe('smtp');
    await expect(openMailer(testConfig({ MAILER: 'smtp', SMTP_HOST: 'smtp.example.com' }))).rejects.toThrowError(ConfigError);
    await expect(openMailer(testConfig({ MAILER: 'smtp', SMTP_HOST: 'smtp.example.com' }))).rejects.toThrowError(/SMTP_USER, SMTP_PASSWORD, MAIL_FROM, PUBLIC_BASE_URL: required with MAILER=smtp/);
  });
});
