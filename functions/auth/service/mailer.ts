import type { Logger } from '../../shared/http/logger.js';
import { emailHashOf } from './audit.js';

export interface PasswordResetMail {
  to: string;
  /** The single-use reset token: it goes into the mail and nowhere else. */
  token: string;
  expiresAt: Date;
}

/** Mailer port: how reset links reach users. */
export interface Mailer {
  readonly kind: string;
  sendPasswordReset(mail: PasswordResetMail): Promise<void>;
}

/**
 * Development adapter: writes one log line saying a reset mail was sent — never the token, and the
 * address only as its hash (logs are not a place for PII).
 */
export function logMailer(log: Logger): Mailer {
  return {
    kind: 'log',
    async sendPasswordReset(mail) {
      log.info('password reset mail sent', { to_hash: emailHashOf(mail.to), expires_at: mail.expiresAt.toISOString() });
    },
  };
}
