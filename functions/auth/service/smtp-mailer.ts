import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { emailVerificationMail, invitationMail, passwordResetMail, type RenderedMail } from './mail-templates.js';
import type { Mailer } from './mailer.js';

export interface SmtpOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  from: string;
  /** Where the links in mail point (PUBLIC_BASE_URL). */
  baseUrl: string;
  /** Extra trusted CA (PEM), for a relay with a private CA; public relays need none. */
  ca?: string;
  /** Connection and greeting timeouts (ms). */
  timeoutMs?: number;
  /** TLS from the first byte; default: on port 465 only (STARTTLS, required, elsewhere). */
  secure?: boolean;
}

/**
 * Production Mailer over SMTP with nodemailer (https://nodemailer.com/smtp/). TLS is required either
 * way: port 465 speaks TLS from the first byte (`secure`), any other port must upgrade with STARTTLS
 * (`requireTLS`: nodemailer refuses to send if the server does not offer it), and the certificate is
 * verified (TLS ≥ 1.2). Credentials authenticate only inside that TLS session. nodemailer is imported
 * on first send, so the auth function's cold start does not load it.
 */
export function smtpMailer(options: SmtpOptions): Mailer {
  let transport: Promise<Transporter<SMTPTransport.SentMessageInfo>> | undefined;
  const open = () =>
    (transport ??= import('nodemailer').then((nodemailer) =>
      nodemailer.createTransport({
        host: options.host,
        port: options.port,
        secure: options.secure ?? options.port === 465,
        requireTLS: true,
        auth: { user: options.user, pass: options.password },
        tls: { minVersion: 'TLSv1.2', rejectUnauthorized: true, servername: options.host, ...(options.ca ? { ca: options.ca } : {}) },
        connectionTimeout: options.timeoutMs ?? 10_000,
        greetingTimeout: options.timeoutMs ?? 10_000,
        socketTimeout: (options.timeoutMs ?? 10_000) * 3,
        // nodemailer's own logger would print the SMTP conversation, message included: keep it off.
        logger: false,
        debug: false,
      }),
    ));
  const send = async (to: string, mail: RenderedMail) => {
    const t = await open();
    await t.sendMail({ from: options.from, to, subject: mail.subject, text: mail.text, html: mail.html });
  };
  return {
    kind: 'smtp',
    sendPasswordReset: (mail) => send(mail.to, passwordResetMail(options.baseUrl, mail)),
    sendInvitation: (mail) => send(mail.to, invitationMail(options.baseUrl, mail)),
    sendEmailVerification: (mail) => send(mail.to, emailVerificationMail(options.baseUrl, mail)),
  };
}
