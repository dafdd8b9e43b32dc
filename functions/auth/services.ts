import { openKeyEncryptor, type KeyEncryptor } from '../shared/crypto/index.js';
import type { KernelServices } from '../shared/http/index.js';
import { rootLogger } from '../shared/http/logger.js';
import { PasswordHasher, type PasswordHasherOptions } from '../shared/security/passwords.js';
import type { SessionStore } from '../shared/sessions/port.js';
import { ConfigError, type Config } from '../shared/config.js';
import { logMailer, type Mailer } from './service/mailer.js';
import { DEFAULT_LIMITS, type RateLimitPolicy } from './service/rate-limit.js';

/** Everything the auth function's routes use, built once per instance on top of the kernel's. */
export interface AuthServices extends KernelServices {
  sessionStore: SessionStore;
  keyEncryptor: KeyEncryptor;
  mailer: Mailer;
  passwords: PasswordHasher;
  limits: RateLimitPolicy;
  /** Every POST /password/forgot answers after at least this long (password.ts). */
  forgotAnswerFloorMs: number;
}

/** Long enough for an SMTP relay to take a message, so both answers of /password/forgot take the floor. */
export const FORGOT_ANSWER_FLOOR_MS = 2_000;

/** Test and embedding hooks: any of these replaces what configuration would build. */
export interface AuthOverrides {
  sessionStore?: SessionStore;
  keyEncryptor?: KeyEncryptor;
  mailer?: Mailer;
  passwords?: PasswordHasher | PasswordHasherOptions;
  limits?: Partial<RateLimitPolicy>;
  forgotAnswerFloorMs?: number;
  /** Firestore collection for sessions (tests use their own project; production `sessions`). */
  firestoreCollection?: string;
}

async function openSessionStore(kernel: KernelServices, overrides: AuthOverrides): Promise<SessionStore> {
  if (overrides.sessionStore) return overrides.sessionStore;
  const cfg = kernel.config;
  if (cfg.SESSION_STORE === 'firestore') {
    // The adapter module is light; it imports @google-cloud/firestore itself on first use.
    const { firestoreSessionStore } = await import('../shared/sessions/firestore.js');
    return firestoreSessionStore({ projectId: cfg.GOOGLE_CLOUD_PROJECT, databaseId: cfg.FIRESTORE_DATABASE, collection: overrides.firestoreCollection });
  }
  const { postgresSessionStore } = await import('../shared/sessions/postgres.js');
  return postgresSessionStore(kernel.database);
}

/** The configured Mailer: SMTP (production requires it: config.ts) or the development log line. */
export async function openMailer(cfg: Config): Promise<Mailer> {
  if (cfg.MAILER === 'smtp') {
    const missing = (['SMTP_HOST', 'SMTP_USER', 'SMTP_PASSWORD', 'MAIL_FROM', 'PUBLIC_BASE_URL'] as const).filter((v) => !cfg[v]);
    if (missing.length) throw new ConfigError(`${missing.join(', ')}: required with MAILER=smtp`);
    const { smtpMailer } = await import('./service/smtp-mailer.js');
    return smtpMailer({ host: cfg.SMTP_HOST!, port: cfg.SMTP_PORT, user: cfg.SMTP_USER!, password: cfg.SMTP_PASSWORD!, from: cfg.MAIL_FROM!, baseUrl: cfg.PUBLIC_BASE_URL!, ca: cfg.SMTP_CA });
  }
  return logMailer(rootLogger.child({ function: 'auth', component: 'mailer' }));
}

export async function buildAuthServices(kernel: KernelServices, overrides: AuthOverrides = {}): Promise<AuthServices> {
  const sessionStore = await openSessionStore(kernel, overrides);
  const keyEncryptor = overrides.keyEncryptor ?? (await openKeyEncryptor(kernel.config));
  const passwords = overrides.passwords instanceof PasswordHasher ? overrides.passwords : new PasswordHasher(overrides.passwords);
  return {
    ...kernel,
    sessionStore,
    keyEncryptor,
    passwords,
    mailer: overrides.mailer ?? (await openMailer(kernel.config)),
    limits: { ...DEFAULT_LIMITS, ...overrides.limits },
    forgotAnswerFloorMs: overrides.forgotAnswerFloorMs ?? FORGOT_ANSWER_FLOOR_MS,
    readiness: {
      ...kernel.readiness,
      ...(sessionStore.kind === 'firestore' ? { firestore: () => sessionStore.ping() } : {}),
    },
    close: async () => {
      await sessionStore.close();
      await kernel.close?.();
    },
  };
}
