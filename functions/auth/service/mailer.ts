import type { Logger } from '../../shared/http/logger.js';
import { emailHashOf } from './audit.js';

export interface PasswordResetMail {
  to: string;
  /** The single-use reset token: it goes into the mail and nowhere else. */
  token: string;
  expiresAt: Date;
}

export interface InvitationMail {
  to: string;
  /** The single-use invitation code: it goes into the mail (and to the admin who created it), nowhere else. */
  code: string;
  expiresAt: Date;
  organization: string;
  role: string;
}

export interface EmailVerificationMail {
  to: string;
  /** The verification token: spent by POST /email/verify, which sets email_verified_at once. */
  token: string;
  expiresAt: Date;
}

/** Mailer port: how reset links, invitations and address verifications reach people. */
export interface Mailer {
  readonly kind: string;
  sendPasswordReset(mail: PasswordResetMail): Promise<void>;
  sendInvitation(mail: InvitationMail): Promise<void>;
  sendEmailVerification(mail: EmailVerificationMail): Promise<void>;
}

/**
 * Development adapter: writes one log line saying a mail was sent — never the token or code, and the
 * address only as its hash (logs are not a place for PII). Production refuses it (config.ts MAILER).
 */
export function logMailer(log: Logger): Mailer {
  const sent = (what: string, to: string, expiresAt: Date) => log.info(`${what} mail sent`, { to_hash: emailHashOf(to), expires_at: expiresAt.toISOString() });
  return {
    kind: 'log',
    async sendPasswordReset(mail) {
      sent('password reset', mail.to, mail.expiresAt);
    },
    async sendInvitation(mail) {
      sent('invitation', mail.to, mail.expiresAt);
    },
    async sendEmailVerification(mail) {
      sent('email verification', mail.to, mail.expiresAt);
    },
  };
}

/**
 * Awaits a send and logs a failure without the mail's content (the error of an SMTP client can quote
 * the command it failed on, never the body; the address is logged as its hash only).
 */
export async function sendLogged(send: Promise<void>, log: Pick<Logger, 'error'>, what: string, to: string): Promise<boolean> {
  try {
    await send;
    return true;
  } catch (err) {
    const e = err as { code?: string; responseCode?: number; message?: string };
    log.error(`${what} mail failed`, { to_hash: emailHashOf(to), code: e.code, response_code: e.responseCode, error: e.message });
    return false;
  }
}
