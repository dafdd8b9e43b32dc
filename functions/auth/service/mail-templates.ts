import type { EmailVerificationMail, InvitationMail, PasswordResetMail } from './mailer.js';

/**
 * Plain-text and HTML bodies of the auth function's mail. Links open the web app at PUBLIC_BASE_URL with
 * the token in the URL fragment (`#token=…`): browsers never send a fragment to a server, so the token
 * stays out of every access log, proxy and Referer on the way; the web app reads it and POSTs it.
 */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const when = (d: Date) => d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

export function link(baseUrl: string, path: string, params: Record<string, string>): string {
  const url = new URL(path, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.hash = new URLSearchParams(params).toString();
  return url.toString();
}

function layout(title: string, paragraphs: string[], action: { label: string; href: string }, footer: string): string {
  const body = paragraphs.map((p) => `<p style="margin:0 0 16px">${escapeHtml(p)}</p>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title></head>
<body style="font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1a1a1a;max-width:560px;margin:0 auto;padding:24px">
<h1 style="font-size:20px;margin:0 0 16px">${escapeHtml(title)}</h1>
${body}
<p style="margin:24px 0"><a href="${escapeHtml(action.href)}" style="background:#1a56db;color:#fff;padding:12px 20px;border-radius:6px;text-decoration:none">${escapeHtml(action.label)}</a></p>
<p style="margin:0 0 16px;font-size:13px;color:#555">If the button does not work, open this address: ${escapeHtml(action.href)}</p>
<p style="margin:24px 0 0;font-size:13px;color:#555">${escapeHtml(footer)}</p>
</body></html>
`;
}

export function passwordResetMail(baseUrl: string, mail: PasswordResetMail): RenderedMail {
  const href = link(baseUrl, 'reset-password', { token: mail.token });
  const lines = ['Someone asked to reset the password of your Lattice Lock account.', `The link works once, until ${when(mail.expiresAt)}.`];
  const footer = 'If you did not ask for this, ignore this mail: your password stays as it is.';
  return {
    subject: 'Reset your Lattice Lock password',
    text: `${lines.join('\n')}\n\nReset your password: ${href}\n\n${footer}\n`,
    html: layout('Reset your password', lines, { label: 'Choose a new password', href }, footer),
  };
}

export function invitationMail(baseUrl: string, mail: InvitationMail): RenderedMail {
  const href = link(baseUrl, 'register', { invitation_code: mail.code });
  const lines = [
    `You are invited to join ${mail.organization} on Lattice Lock as ${mail.role}.`,
    `The invitation works once, until ${when(mail.expiresAt)}, and only for this address.`,
  ];
  const footer = 'If you do not know this organization, ignore this mail.';
  return {
    subject: `Join ${mail.organization} on Lattice Lock`,
    text: `${lines.join('\n')}\n\nCreate your account: ${href}\n\n${footer}\n`,
    html: layout(`Join ${mail.organization}`, lines, { label: 'Create your account', href }, footer),
  };
}

export function emailVerificationMail(baseUrl: string, mail: EmailVerificationMail): RenderedMail {
  const href = link(baseUrl, 'verify-email', { token: mail.token });
  const lines = ['Confirm that this address belongs to your Lattice Lock account.', `The link works once, until ${when(mail.expiresAt)}.`];
  const footer = 'If you did not create an account, ignore this mail.';
  return {
    subject: 'Confirm your email address',
    text: `${lines.join('\n')}\n\nConfirm your address: ${href}\n\n${footer}\n`,
    html: layout('Confirm your email address', lines, { label: 'Confirm my address', href }, footer),
  };
}
