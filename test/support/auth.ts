import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, inject } from 'vitest';
import { invitations } from '../../drizzle/schema/auth.js';
import { organizations } from '../../drizzle/schema/projects.js';
import { buildAuthApp } from '../../functions/auth/app.js';
import type { EmailVerificationMail, InvitationMail, Mailer, PasswordResetMail } from '../../functions/auth/service/mailer.js';
import { DEFAULT_LIMITS, type RateLimitPolicy } from '../../functions/auth/service/rate-limit.js';
import { buildAuthServices, type AuthServices } from '../../functions/auth/services.js';
import { newInvitationCode } from '../../functions/auth/service/invitations.js';
import { withSystem } from '../../functions/shared/db/tenant.js';
import { sha256Hex } from '../../functions/shared/security/hashing.js';
import { firestoreSessionStore } from '../../functions/shared/sessions/firestore.js';
import { postgresSessionStore } from '../../functions/shared/sessions/postgres.js';
import type { SessionStore } from '../../functions/shared/sessions/port.js';
import { call, testKernel } from './app.js';
import { createTestDatabase } from './db.js';

/** Limits high enough that only the rate-limit tests meet them. */
const RELAXED = Object.fromEntries(Object.keys(DEFAULT_LIMITS).map((k) => [k, { max: 10_000, windowSeconds: 900 }])) as unknown as RateLimitPolicy;

export const PASSWORD = 'violet-otter-harbour-42';

export interface HarnessOptions {
  store?: 'postgres' | 'firestore';
  limits?: Partial<RateLimitPolicy>;
  queueTimeoutMs?: number;
  /** Configuration beyond the test defaults (e.g. MAILER=smtp with its SMTP_* variables). */
  env?: Record<string, string>;
  /** Use the Mailer configuration selects instead of the capturing one. */
  configuredMailer?: boolean;
}

/**
 * One auth app per test file on its own database (and its own Firestore project), with a mailer
 * that captures reset mails and a clock offset the session store reads (to pass grace periods
 * and expiries without waiting).
 */
export async function authHarness(options: HarnessOptions = {}) {
  const { database } = await createTestDatabase();
  const mails: PasswordResetMail[] = [];
  const invitationMails: InvitationMail[] = [];
  const verificationMails: EmailVerificationMail[] = [];
  const clock = { offsetMs: 0 };
  const now = () => new Date(Date.now() + clock.offsetMs);
  let sessionStore: SessionStore;
  let projectId: string | undefined;
  if (options.store === 'firestore') {
    process.env.FIRESTORE_EMULATOR_HOST ??= inject('firestoreHost');
    process.env.METADATA_SERVER_DETECTION ??= 'none';
    projectId = `auth-${randomUUID().slice(0, 8)}`;
    sessionStore = firestoreSessionStore({ projectId, clock: now });
  } else {
    sessionStore = postgresSessionStore(database, { clock: now });
  }
  const capture: Mailer = {
    kind: 'capture',
    sendPasswordReset: async (m) => void mails.push(m),
    sendInvitation: async (m) => void invitationMails.push(m),
    sendEmailVerification: async (m) => void verificationMails.push(m),
  };
  const services: AuthServices = await buildAuthServices(testKernel(database, options.env), {
    sessionStore,
    ...(options.configuredMailer ? {} : { mailer: capture }),
    forgotAnswerFloorMs: 0,
    limits: { ...RELAXED, ...options.limits },
    passwords: { queueTimeoutMs: options.queueTimeoutMs ?? 120_000 },
  });
  const app = buildAuthApp(async () => services);
  afterAll(async () => {
    await sessionStore.close();
    if (projectId) {
      await fetch(`http://${process.env.FIRESTORE_EMULATOR_HOST}/emulator/v1/projects/${projectId}/databases/(default)/documents`, { method: 'DELETE' });
    }
  });

  /** An organization and an invitation code straight in the database (the bootstrap's way). */
  async function invitation(opts: { orgId?: string; role?: 'owner' | 'admin' | 'member' | 'viewer'; email?: string; platformAdmin?: boolean; expiresInMs?: number } = {}) {
    const code = newInvitationCode();
    const orgId = await withSystem(database, async (tx) => {
      let id = opts.orgId;
      if (!id) {
        const suffix = randomBytes(4).toString('hex');
        const [org] = await tx.insert(organizations).values({ name: `Org ${suffix}`, slug: `org-${suffix}` }).returning({ id: organizations.id });
        id = org!.id;
      }
      await tx.insert(invitations).values({
        orgId: id,
        codeHash: sha256Hex(code),
        role: opts.role ?? 'owner',
        email: opts.email ?? null,
        grantsPlatformAdmin: opts.platformAdmin ?? false,
        expiresAt: new Date(Date.now() + (opts.expiresInMs ?? 3_600_000)),
      });
      return id;
    });
    return { code, orgId };
  }

  /** Registers through the API and signs in; returns the tokens and who it is. */
  async function user(opts: Parameters<typeof invitation>[0] & { password?: string; headers?: Record<string, string> } = {}) {
    const { code, orgId } = await invitation(opts);
    const email = opts.email ?? `u-${randomBytes(5).toString('hex')}@example.test`;
    const password = opts.password ?? PASSWORD;
    const reg = await call(app, 'POST', '/register', { body: { invitation_code: code, email, password, name: 'Test User' } });
    if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${reg.text}`);
    const login = await call(app, 'POST', '/login', { body: { email, password }, headers: opts.headers });
    if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
    return { id: reg.json.id as string, orgId, email, password, tokens: login.json, token: login.json.access_token as string };
  }

  return { app, database, services, mails, invitationMails, verificationMails, clock, invitation, user };
}

export const expectProblemShape = (res: { status: number; headers: Headers; json: any }, status: number, code?: string) => {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${JSON.stringify(res.json)}`);
  if (res.headers.get('content-type') !== 'application/problem+json') throw new Error(`not problem+json: ${res.headers.get('content-type')}`);
  if (code && res.json.type !== `urn:lattice-lock:problem:${code}`) throw new Error(`expected code ${code}, got ${res.json.type}`);
};
