import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgSchema,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { actors, id, orgId, softDelete, timestamps, ts, version } from './_columns.js';
import { inList, hex64 } from './_checks.js';
import { organizations } from './projects.js';
import { userRoles, type UserRole } from './roles.js';

export const authSchema = pgSchema('auth');

export { userRoles, type UserRole } from './roles.js';

export const userStatuses = ['active', 'disabled'] as const;
export type UserStatus = (typeof userStatuses)[number];

/** Why a session stopped being valid (sessions.revoked_reason). */
export const sessionRevokedReasons = [
  'logout',
  'token_reuse',
  'password_reset',
  'password_changed',
  'user_revoked',
  'admin_revoked',
  'account_disabled',
] as const;
export type SessionRevokedReason = (typeof sessionRevokedReasons)[number];

/** Events of auth.audit_logs (CHECK constraint lists exactly these). */
export const authAuditEvents = [
  'login_succeeded',
  'login_failed',
  'login_locked',
  'account_locked',
  'mfa_succeeded',
  'mfa_failed',
  'mfa_enabled',
  'mfa_disabled',
  'recovery_code_used',
  'logout',
  'token_refreshed',
  'token_reuse_detected',
  'password_reset_requested',
  'password_reset',
  'password_changed',
  'registered',
  'invitation_created',
  'invitation_revoked',
  'session_revoked',
  'rate_limited',
] as const;
export type AuthAuditEvent = (typeof authAuditEvents)[number];



export const users = authSchema.table(
  'users',
  {
    id: id(),
    orgId: orgId(),
    email: text('email').notNull(),
    name: text('name').notNull(),
    /** argon2id PHC string. */
    passwordHash: text('password_hash').notNull(),
    role: text('role').$type<UserRole>().notNull().default('member'),
    isPlatformAdmin: boolean('is_platform_admin').notNull().default(false),
    /** Consecutive failures; incremented atomically in SQL, reset on success. */
    failedAttempts: integer('failed_attempts').notNull().default(0),
    lockedUntil: ts('locked_until'),
    /** KeyEncryptor envelope (ciphertext as text); null when TOTP was never set up. */
    totpSecretEncrypted: text('totp_secret_encrypted'),
    totpEnabled: boolean('totp_enabled').notNull().default(false),
    /** Last accepted TOTP time step (unix time / 30): a code of this step or earlier is a replay. */
    totpLastStep: bigint('totp_last_step', { mode: 'number' }),
    emailVerifiedAt: ts('email_verified_at'),
    passwordChangedAt: ts('password_changed_at'),
    lastLoginAt: ts('last_login_at'),
    status: text('status').$type<UserStatus>().notNull().default('active'),
    /**
     * Access tokens carry the version they were issued under and are refused once it moves: a trigger
     * bumps it when role, status, password or organization change, the auth function on logout and
     * session revocation (functions/shared/security/revocation.ts).
     */
    tokenVersion: integer('token_version').notNull().default(1),
    ...timestamps,
    ...actors,
    ...softDelete,
    ...version,
  },
  (t) => [
    foreignKey({ name: 'users_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    // Login looks users up by email before the tenant is known: unique across all organizations
    // (among live rows, so a soft-deleted account does not block its address forever).
    uniqueIndex('users_email_lower_uq').on(sql`lower(${t.email})`).where(sql`${t.deletedAt} is null`),
    index('users_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('users_org_id_name_id_idx').on(t.orgId, t.name, t.id),
    check('users_email_check', sql`${t.email} ~ '^[^@[:space:]]+@[^@[:space:]]+$' and length(${t.email}) <= 320`),
    check('users_role_check', sql`${t.role} in (${inList(userRoles)})`),
    check('users_status_check', sql`${t.status} in (${inList(userStatuses)})`),
    check('users_failed_attempts_check', sql`${t.failedAttempts} >= 0`),
    check('users_totp_last_step_check', sql`${t.totpLastStep} >= 0`),
    check('users_totp_enabled_check', sql`not ${t.totpEnabled} or ${t.totpSecretEncrypted} is not null`),
    check('users_version_check', sql`${t.version} > 0`),
    check('users_token_version_check', sql`${t.tokenVersion} > 0`),
  ],
);

/** MFA recovery codes: hashed, single use (used_at set once). */
export const recoveryCodes = authSchema.table(
  'recovery_codes',
  {
    id: id(),
    orgId: orgId(),
    userId: uuid('user_id').notNull(),
    codeHash: text('code_hash').notNull(),
    usedAt: ts('used_at'),
    ...timestamps,
  },
  (t) => [
    foreignKey({ name: 'recovery_codes_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    foreignKey({ name: 'recovery_codes_user_id_fk', columns: [t.userId], foreignColumns: [users.id] }).onDelete('cascade'),
    uniqueIndex('recovery_codes_code_hash_uq').on(t.codeHash),
    index('recovery_codes_user_id_idx').on(t.userId),
    index('recovery_codes_org_id_idx').on(t.orgId),
    check('recovery_codes_code_hash_check', hex64(t.codeHash)),
  ],
);

/**
 * Refresh-token sessions of the embedded SessionStore adapter (Firestore in production).
 * One row per login family member; rotation replaces token_hash and keeps the previous hash
 * with rotated_at; every retired hash (not only the last) is kept in auth.session_tokens, so a
 * replay inside its 10 s grace is tolerated and a later one revokes the family.
 */
export const sessions = authSchema.table(
  'sessions',
  {
    id: id(),
    orgId: orgId(),
    userId: uuid('user_id').notNull(),
    /** Every session descended from one login shares the family id. */
    familyId: uuid('family_id').notNull(),
    /** SHA-256 (hex) of the current refresh token. */
    tokenHash: text('token_hash').notNull(),
    previousTokenHash: text('previous_token_hash'),
    rotatedAt: ts('rotated_at'),
    userAgent: text('user_agent'),
    ip: text('ip'),
    lastUsedAt: ts('last_used_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
    revokedAt: ts('revoked_at'),
    revokedReason: text('revoked_reason').$type<SessionRevokedReason>(),
    ...timestamps,
  },
  (t) => [
    foreignKey({ name: 'sessions_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    foreignKey({ name: 'sessions_user_id_fk', columns: [t.userId], foreignColumns: [users.id] }).onDelete('cascade'),
    uniqueIndex('sessions_token_hash_uq').on(t.tokenHash),
    index('sessions_previous_token_hash_idx').on(t.previousTokenHash).where(sql`${t.previousTokenHash} is not null`),
    index('sessions_user_id_idx').on(t.userId),
    index('sessions_family_id_idx').on(t.familyId),
    index('sessions_org_id_idx').on(t.orgId),
    index('sessions_live_expires_at_idx').on(t.expiresAt).where(sql`${t.revokedAt} is null`),
    check('sessions_token_hash_check', hex64(t.tokenHash)),
    check('sessions_previous_token_hash_check', hex64(t.previousTokenHash)),
    check('sessions_rotation_check', sql`(${t.previousTokenHash} is null) = (${t.rotatedAt} is null)`),
    check('sessions_revoked_reason_check', sql`${t.revokedReason} in (${inList(sessionRevokedReasons)})`),
    check('sessions_revoked_check', sql`${t.revokedReason} is null or ${t.revokedAt} is not null`),
  ],
);

/**
 * Every retired refresh-token hash of a session (the embedded adapter's reuse detection).
 * sessions.previous_token_hash only remembers the last one; a token two or more rotations old
 * must still be recognised so that presenting it after its own 10 s grace revokes the family.
 * Rows go with their session (cascade), so the history lives exactly as long as the session.
 */
export const sessionTokens = authSchema.table(
  'session_tokens',
  {
    /** SHA-256 (hex) of a refresh token this session no longer accepts. */
    tokenHash: text('token_hash').primaryKey(),
    sessionId: uuid('session_id').notNull(),
    familyId: uuid('family_id').notNull(),
    orgId: orgId(),
    /** When the token was rotated away: the start of its own grace period. */
    retiredAt: ts('retired_at').notNull(),
  },
  (t) => [
    foreignKey({ name: 'session_tokens_session_id_fk', columns: [t.sessionId], foreignColumns: [sessions.id] }).onDelete('cascade'),
    foreignKey({ name: 'session_tokens_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    index('session_tokens_session_id_idx').on(t.sessionId),
    index('session_tokens_org_id_idx').on(t.orgId),
    check('session_tokens_token_hash_check', hex64(t.tokenHash)),
  ],
);

/** Invitation codes (hashed) to join an organization with a role. */
export const invitations = authSchema.table(
  'invitations',
  {
    id: id(),
    orgId: orgId(),
    codeHash: text('code_hash').notNull(),
    /** When set, only this address may redeem the invitation. */
    email: text('email'),
    role: text('role').$type<UserRole>().notNull().default('member'),
    /** Only the bootstrap invitation of the first organization makes its user a platform admin. */
    grantsPlatformAdmin: boolean('grants_platform_admin').notNull().default(false),
    expiresAt: ts('expires_at').notNull(),
    usedAt: ts('used_at'),
    usedBy: uuid('used_by'),
    revokedAt: ts('revoked_at'),
    ...timestamps,
    ...actors,
  },
  (t) => [
    foreignKey({ name: 'invitations_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    foreignKey({ name: 'invitations_used_by_fk', columns: [t.usedBy], foreignColumns: [users.id] }).onDelete('set null'),
    uniqueIndex('invitations_code_hash_uq').on(t.codeHash),
    index('invitations_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('invitations_pending_idx')
      .on(t.orgId, t.expiresAt)
      .where(sql`${t.usedAt} is null and ${t.revokedAt} is null`),
    index('invitations_used_by_idx').on(t.usedBy),
    check('invitations_code_hash_check', hex64(t.codeHash)),
    check('invitations_role_check', sql`${t.role} in (${inList(userRoles)})`),
    check('invitations_email_check', sql`${t.email} ~ '^[^@[:space:]]+@[^@[:space:]]+$'`),
    check('invitations_used_revoked_check', sql`${t.usedAt} is null or ${t.revokedAt} is null`),
  ],
);

/** Password reset tokens: hashed, single use, short expiry. */
export const passwordResets = authSchema.table(
  'password_resets',
  {
    id: id(),
    orgId: orgId(),
    userId: uuid('user_id').notNull(),
    tokenHash: text('token_hash').notNull(),
    expiresAt: ts('expires_at').notNull(),
    usedAt: ts('used_at'),
    ...timestamps,
  },
  (t) => [
    foreignKey({ name: 'password_resets_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    foreignKey({ name: 'password_resets_user_id_fk', columns: [t.userId], foreignColumns: [users.id] }).onDelete('cascade'),
    uniqueIndex('password_resets_token_hash_uq').on(t.tokenHash),
    index('password_resets_user_id_idx').on(t.userId),
    index('password_resets_org_id_idx').on(t.orgId),
    index('password_resets_pending_expires_at_idx').on(t.expiresAt).where(sql`${t.usedAt} is null`),
    check('password_resets_token_hash_check', hex64(t.tokenHash)),
  ],
);

/**
 * Authentication events (append-only: immutability trigger in auth.up.sql).
 * org_id/user_id are null for an unknown email; no foreign keys, so the trail outlives the
 * account. email_hash = SHA-256 hex of lower(email): correlates attempts without storing PII.
 */
export const auditLogs = authSchema.table(
  'audit_logs',
  {
    id: id(),
    orgId: uuid('org_id'),
    userId: uuid('user_id'),
    event: text('event').$type<AuthAuditEvent>().notNull(),
    emailHash: text('email_hash'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('audit_logs_org_id_created_at_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('audit_logs_user_id_created_at_idx').on(t.userId, t.createdAt.desc()),
    index('audit_logs_email_hash_created_at_idx').on(t.emailHash, t.createdAt.desc()),
    check('audit_logs_event_check', sql`${t.event} in (${inList(authAuditEvents)})`),
    check('audit_logs_email_hash_check', hex64(t.emailHash)),
  ],
);
