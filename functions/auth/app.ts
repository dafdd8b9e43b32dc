import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApp, type FunctionEnv } from '../shared/http/index.js';
import { registerAccount } from './routes/account.js';
import { registerAudit } from './routes/audit.js';
import { registerEmail } from './routes/email.js';
import { registerInvitations } from './routes/invitations.js';
import { registerLogin } from './routes/login.js';
import { registerMfa } from './routes/mfa.js';
import { registerPassword } from './routes/password.js';
import { registerSessions } from './routes/sessions.js';
import type { AuthServices } from './services.js';

export type AuthEnv = FunctionEnv<AuthServices>;

/** The auth function: its table of contents. Each resource registers itself from routes/. */
export function buildAuthApp(services: () => Promise<AuthServices>): OpenAPIHono<AuthEnv> {
  const app = createApp<AuthServices>({ name: 'auth', services });
  registerAccount(app); // POST /register, GET /me
  registerEmail(app); // POST /email/verification, /email/verify
  registerLogin(app); // POST /login, /login/mfa, /token/refresh, /logout
  registerSessions(app); // GET /sessions, DELETE /sessions/:id
  registerMfa(app); // POST /mfa/totp/setup|enable|disable
  registerPassword(app); // POST /password/forgot|reset|change
  registerInvitations(app); // POST|GET|DELETE /invitations, POST /organizations
  registerAudit(app); // GET /audit
  return app;
}
