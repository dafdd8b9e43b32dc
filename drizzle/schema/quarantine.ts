import { sql } from 'drizzle-orm';
import { check, foreignKey, index, jsonb, pgSchema, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { actors, id, orgId, timestamps, ts, version } from './_columns.js';
import { inList } from './_checks.js';
import { users } from './auth.js';
import { organizations, projects, versions } from './projects.js';

export const quarantineSchema = pgSchema('quarantine');

/** How a configuration reached quarantine. */
export const quarantineSources = ['blacklist', 'manual', 'reevaluation', 'evaluation', 'policy', 'automated'] as const;
export type QuarantineSource = (typeof quarantineSources)[number];

export const reevaluationStatuses = ['pending', 'approved', 'rejected'] as const;
export type ReevaluationStatus = (typeof reevaluationStatuses)[number];


/**
 * v3 archive of quarantined configurations. Read-only after insert (immutability trigger in
 * quarantine.up.sql): no updated_at, no updated_by, and every reference is ON DELETE RESTRICT,
 * because a cascade or SET NULL would be an UPDATE/DELETE the trigger refuses anyway.
 */
export const quarantineRecords = quarantineSchema.table(
  'quarantine_records',
  {
    id: id(),
    orgId: orgId(),
    projectId: uuid('project_id').notNull(),
    versionId: uuid('version_id').notNull(),
    configHash: text('config_hash').notNull(),
    /** Copy of the version's config at quarantine time. */
    config: jsonb('config').$type<Record<string, unknown>>().notNull(),
    reason: text('reason').notNull(),
    evidence: jsonb('evidence').$type<Record<string, unknown>>().notNull().default({}),
    source: text('source').$type<QuarantineSource>().notNull(),
    createdBy: uuid('created_by'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    foreignKey({ name: 'quarantine_records_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('restrict'),
    foreignKey({ name: 'quarantine_records_project_id_fk', columns: [t.projectId], foreignColumns: [projects.id] }).onDelete('restrict'),
    foreignKey({ name: 'quarantine_records_version_id_fk', columns: [t.versionId], foreignColumns: [versions.id] }).onDelete('restrict'),
    index('quarantine_records_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('quarantine_records_project_id_created_at_id_idx').on(t.projectId, t.createdAt.desc(), t.id),
    index('quarantine_records_version_id_idx').on(t.versionId),
    index('quarantine_records_org_id_config_hash_idx').on(t.orgId, t.configHash),
    check('quarantine_records_config_hash_check', sql`${t.configHash} ~ '^[0-9a-f]{64}$'`),
    check('quarantine_records_source_check', sql`${t.source} in (${inList(quarantineSources)})`),
  ],
);

/** Requests to re-evaluate a quarantined configuration: pending → approved | rejected. */
export const reevaluationRequests = quarantineSchema.table(
  'reevaluation_requests',
  {
    id: id(),
    orgId: orgId(),
    recordId: uuid('record_id').notNull(),
    reason: text('reason').notNull(),
    status: text('status').$type<ReevaluationStatus>().notNull().default('pending'),
    requestedBy: uuid('requested_by').notNull(),
    decidedBy: uuid('decided_by'),
    decidedAt: ts('decided_at'),
    decisionReason: text('decision_reason'),
    /** The version created for the new evaluation when approved. */
    newVersionId: uuid('new_version_id'),
    ...timestamps,
    ...actors,
    ...version,
  },
  (t) => [
    foreignKey({ name: 'reevaluation_requests_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    foreignKey({ name: 'reevaluation_requests_record_id_fk', columns: [t.recordId], foreignColumns: [quarantineRecords.id] }).onDelete('cascade'),
    // 'no action' (checked at statement end): the CHECK below needs the decider, yet an
    // organization's cascade delete still goes through.
    foreignKey({ name: 'reevaluation_requests_requested_by_fk', columns: [t.requestedBy], foreignColumns: [users.id] }).onDelete('no action'),
    foreignKey({ name: 'reevaluation_requests_decided_by_fk', columns: [t.decidedBy], foreignColumns: [users.id] }).onDelete('no action'),
    foreignKey({ name: 'reevaluation_requests_new_version_id_fk', columns: [t.newVersionId], foreignColumns: [versions.id] }).onDelete('set null'),
    uniqueIndex('reevaluation_requests_pending_record_id_uq').on(t.recordId).where(sql`${t.status} = 'pending'`),
    index('reevaluation_requests_record_id_idx').on(t.recordId),
    index('reevaluation_requests_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('reevaluation_requests_pending_idx').on(t.orgId, t.createdAt).where(sql`${t.status} = 'pending'`),
    index('reevaluation_requests_requested_by_idx').on(t.requestedBy),
    index('reevaluation_requests_decided_by_idx').on(t.decidedBy),
    index('reevaluation_requests_new_version_id_idx').on(t.newVersionId),
    check('reevaluation_requests_status_check', sql`${t.status} in (${inList(reevaluationStatuses)})`),
    check(
      'reevaluation_requests_decision_check',
      sql`(${t.status} = 'pending') = (${t.decidedBy} is null and ${t.decidedAt} is null)`,
    ),
    check('reevaluation_requests_version_check', sql`${t.version} > 0`),
  ],
);
