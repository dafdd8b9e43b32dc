import { sql } from 'drizzle-orm';
import {
  check,
  doublePrecision,
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
import { inList, slugCheck } from './_checks.js';
import { users } from './auth.js';

export const projectsSchema = pgSchema('projects');

export const projectHealthStatuses = ['healthy', 'warning', 'error', 'unknown'] as const;
export type ProjectHealthStatus = (typeof projectHealthStatuses)[number];

export const validationStatuses = ['passed', 'failed', 'pending', 'not_run'] as const;
export type ValidationStatus = (typeof validationStatuses)[number];

export const validationKinds = ['schema', 'sheriff', 'gauntlet'] as const;
export type ValidationKind = (typeof validationKinds)[number];

/** Result of one validation run (a run is recorded as pending, then passed or failed). */
export const validationResults = ['pending', 'passed', 'failed'] as const;
export type ValidationResult = (typeof validationResults)[number];

export const projectErrorSeverities = ['info', 'warning', 'error'] as const;
export type ProjectErrorSeverity = (typeof projectErrorSeverities)[number];

/** v1 experimentation, v2 production, v3 quarantine. */
export const versionZones = ['v1', 'v2', 'v3'] as const;
export type VersionZone = (typeof versionZones)[number];

export const baselineOperators = ['>', '<', '>=', '<=', '='] as const;
export type BaselineOperator = (typeof baselineOperators)[number];


/** Tenants. The tenant key of this table is its own id (RLS compares id with app.org_id). */
export const organizations = projectsSchema.table(
  'organizations',
  {
    id: id(),
    name: text('name').notNull(),
    slug: text('slug').notNull(),
    ...timestamps,
    ...actors,
    ...softDelete,
    ...version,
  },
  (t) => [
    uniqueIndex('organizations_slug_uq').on(t.slug).where(sql`${t.deletedAt} is null`),
    index('organizations_created_at_id_idx').on(t.createdAt.desc(), t.id),
    check('organizations_slug_check', slugCheck(t.slug)),
    check('organizations_version_check', sql`${t.version} > 0`),
  ],
);

export const projects = projectsSchema.table(
  'projects',
  {
    id: id(),
    orgId: orgId(),
    name: text('name').notNull(),
    slug: text('slug').notNull(),
    description: text('description'),
    status: text('status').$type<ProjectHealthStatus>().notNull().default('unknown'),
    schemaStatus: text('schema_status').$type<ValidationStatus>().notNull().default('not_run'),
    sheriffStatus: text('sheriff_status').$type<ValidationStatus>().notNull().default('not_run'),
    gauntletStatus: text('gauntlet_status').$type<ValidationStatus>().notNull().default('not_run'),
    lastValidatedAt: ts('last_validated_at'),
    ...timestamps,
    ...actors,
    ...softDelete,
    ...version,
  },
  (t) => [
    foreignKey({ name: 'projects_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    uniqueIndex('projects_org_id_slug_uq').on(t.orgId, t.slug).where(sql`${t.deletedAt} is null`),
    index('projects_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('projects_org_id_name_id_idx').on(t.orgId, t.name, t.id),
    index('projects_name_trgm_idx').using('gin', sql`${t.name} gin_trgm_ops`),
    check('projects_slug_check', slugCheck(t.slug)),
    check('projects_status_check', sql`${t.status} in (${inList(projectHealthStatuses)})`),
    check('projects_schema_status_check', sql`${t.schemaStatus} in (${inList(validationStatuses)})`),
    check('projects_sheriff_status_check', sql`${t.sheriffStatus} in (${inList(validationStatuses)})`),
    check('projects_gauntlet_status_check', sql`${t.gauntletStatus} in (${inList(validationStatuses)})`),
    check('projects_version_check', sql`${t.version} > 0`),
  ],
);

/** One row per validation run (history is kept; projects.*_status holds the latest result). */
export const validations = projectsSchema.table(
  'validations',
  {
    id: id(),
    orgId: orgId(),
    projectId: uuid('project_id').notNull(),
    kind: text('kind').$type<ValidationKind>().notNull(),
    result: text('result').$type<ValidationResult>().notNull().default('pending'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    finishedAt: ts('finished_at'),
    ...timestamps,
    ...actors,
  },
  (t) => [
    foreignKey({ name: 'validations_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    foreignKey({ name: 'validations_project_id_fk', columns: [t.projectId], foreignColumns: [projects.id] }).onDelete('cascade'),
    index('validations_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('validations_project_id_created_at_id_idx').on(t.projectId, t.createdAt.desc(), t.id),
    index('validations_pending_idx').on(t.orgId, t.createdAt).where(sql`${t.result} = 'pending'`),
    check('validations_kind_check', sql`${t.kind} in (${inList(validationKinds)})`),
    check('validations_result_check', sql`${t.result} in (${inList(validationResults)})`),
  ],
);

export const projectErrors = projectsSchema.table(
  'project_errors',
  {
    id: id(),
    orgId: orgId(),
    projectId: uuid('project_id').notNull(),
    /** The run that reported the error, if any. */
    validationId: uuid('validation_id'),
    code: text('code').notNull(),
    message: text('message').notNull(),
    filePath: text('file_path'),
    lineNumber: integer('line_number'),
    severity: text('severity').$type<ProjectErrorSeverity>().notNull().default('error'),
    resolvedAt: ts('resolved_at'),
    resolvedBy: uuid('resolved_by'),
    ...timestamps,
    ...actors,
  },
  (t) => [
    foreignKey({ name: 'project_errors_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    foreignKey({ name: 'project_errors_project_id_fk', columns: [t.projectId], foreignColumns: [projects.id] }).onDelete('cascade'),
    foreignKey({ name: 'project_errors_validation_id_fk', columns: [t.validationId], foreignColumns: [validations.id] }).onDelete('set null'),
    foreignKey({ name: 'project_errors_resolved_by_fk', columns: [t.resolvedBy], foreignColumns: [users.id] }).onDelete('set null'),
    index('project_errors_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('project_errors_project_id_created_at_id_idx').on(t.projectId, t.createdAt.desc(), t.id),
    index('project_errors_unresolved_idx')
      .on(t.projectId, t.createdAt.desc(), t.id)
      .where(sql`${t.resolvedAt} is null`),
    index('project_errors_validation_id_idx').on(t.validationId),
    index('project_errors_resolved_by_idx').on(t.resolvedBy),
    check('project_errors_severity_check', sql`${t.severity} in (${inList(projectErrorSeverities)})`),
    check('project_errors_line_number_check', sql`${t.lineNumber} > 0`),
    check('project_errors_resolved_check', sql`${t.resolvedBy} is null or ${t.resolvedAt} is not null`),
  ],
);

export const rollbackCheckpoints = projectsSchema.table(
  'rollback_checkpoints',
  {
    id: id(),
    orgId: orgId(),
    projectId: uuid('project_id').notNull(),
    snapshot: jsonb('snapshot').$type<Record<string, unknown>>().notNull(),
    reason: text('reason'),
    ...timestamps,
    ...actors,
  },
  (t) => [
    foreignKey({ name: 'rollback_checkpoints_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    foreignKey({ name: 'rollback_checkpoints_project_id_fk', columns: [t.projectId], foreignColumns: [projects.id] }).onDelete('cascade'),
    index('rollback_checkpoints_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('rollback_checkpoints_project_id_created_at_id_idx').on(t.projectId, t.createdAt.desc(), t.id),
  ],
);

export const versions = projectsSchema.table(
  'versions',
  {
    id: id(),
    orgId: orgId(),
    projectId: uuid('project_id').notNull(),
    versionNumber: integer('version_number').notNull(),
    zone: text('zone').$type<VersionZone>().notNull().default('v1'),
    config: jsonb('config').$type<Record<string, unknown>>().notNull(),
    /** SHA-256 (lower-case hex) of the canonical config. */
    configHash: text('config_hash').notNull(),
    notes: text('notes'),
    ...timestamps,
    ...actors,
    ...version,
  },
  (t) => [
    foreignKey({ name: 'versions_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    foreignKey({ name: 'versions_project_id_fk', columns: [t.projectId], foreignColumns: [projects.id] }).onDelete('cascade'),
    uniqueIndex('versions_project_id_version_number_uq').on(t.projectId, t.versionNumber),
    index('versions_org_id_config_hash_idx').on(t.orgId, t.configHash),
    index('versions_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    check('versions_version_number_check', sql`${t.versionNumber} > 0`),
    check('versions_zone_check', sql`${t.zone} in (${inList(versionZones)})`),
    check('versions_config_hash_check', sql`${t.configHash} ~ '^[0-9a-f]{64}$'`),
    check('versions_version_check', sql`${t.version} > 0`),
  ],
);

export const baselines = projectsSchema.table(
  'baselines',
  {
    id: id(),
    orgId: orgId(),
    projectId: uuid('project_id').notNull(),
    metric: text('metric').notNull(),
    operator: text('operator').$type<BaselineOperator>().notNull(),
    threshold: doublePrecision('threshold').notNull(),
    ...timestamps,
    ...actors,
    ...version,
  },
  (t) => [
    foreignKey({ name: 'baselines_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    foreignKey({ name: 'baselines_project_id_fk', columns: [t.projectId], foreignColumns: [projects.id] }).onDelete('cascade'),
    uniqueIndex('baselines_project_id_metric_operator_uq').on(t.projectId, t.metric, t.operator),
    index('baselines_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    check('baselines_operator_check', sql`${t.operator} in (${inList(baselineOperators)})`),
    check('baselines_threshold_check', sql`${t.threshold} not in ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)`),
    check('baselines_version_check', sql`${t.version} > 0`),
  ],
);

/**
 * OPA policies (rego source). `version` is both the policy revision and the optimistic-locking
 * ETag: every edit bumps it by one.
 */
export const policies = projectsSchema.table(
  'policies',
  {
    id: id(),
    orgId: orgId(),
    name: text('name').notNull(),
    description: text('description'),
    rego: text('rego').notNull(),
    ...timestamps,
    ...actors,
    ...softDelete,
    ...version,
  },
  (t) => [
    foreignKey({ name: 'policies_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    uniqueIndex('policies_org_id_name_uq').on(t.orgId, t.name).where(sql`${t.deletedAt} is null`),
    index('policies_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    check('policies_version_check', sql`${t.version} > 0`),
  ],
);

export const projectPolicies = projectsSchema.table(
  'project_policies',
  {
    id: id(),
    orgId: orgId(),
    projectId: uuid('project_id').notNull(),
    policyId: uuid('policy_id').notNull(),
    ...timestamps,
    ...actors,
  },
  (t) => [
    foreignKey({ name: 'project_policies_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    foreignKey({ name: 'project_policies_project_id_fk', columns: [t.projectId], foreignColumns: [projects.id] }).onDelete('cascade'),
    foreignKey({ name: 'project_policies_policy_id_fk', columns: [t.policyId], foreignColumns: [policies.id] }).onDelete('cascade'),
    uniqueIndex('project_policies_project_id_policy_id_uq').on(t.projectId, t.policyId),
    index('project_policies_policy_id_idx').on(t.policyId),
    index('project_policies_org_id_idx').on(t.orgId),
  ],
);

/** Zone changes of a version (promotion v1→v2, quarantine →v3, rollback), with reason and actor. */
export const versionHistory = projectsSchema.table(
  'version_history',
  {
    id: id(),
    orgId: orgId(),
    projectId: uuid('project_id').notNull(),
    versionId: uuid('version_id').notNull(),
    fromZone: text('from_zone').$type<VersionZone>(),
    toZone: text('to_zone').$type<VersionZone>().notNull(),
    reason: text('reason'),
    actorId: uuid('actor_id'),
    ...timestamps,
  },
  (t) => [
    foreignKey({ name: 'version_history_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    foreignKey({ name: 'version_history_project_id_fk', columns: [t.projectId], foreignColumns: [projects.id] }).onDelete('cascade'),
    foreignKey({ name: 'version_history_version_id_fk', columns: [t.versionId], foreignColumns: [versions.id] }).onDelete('cascade'),
    foreignKey({ name: 'version_history_actor_id_fk', columns: [t.actorId], foreignColumns: [users.id] }).onDelete('set null'),
    index('version_history_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('version_history_project_id_created_at_id_idx').on(t.projectId, t.createdAt.desc(), t.id),
    index('version_history_version_id_created_at_idx').on(t.versionId, t.createdAt.desc()),
    index('version_history_actor_id_idx').on(t.actorId),
    check('version_history_from_zone_check', sql`${t.fromZone} in (${inList(versionZones)})`),
    check('version_history_to_zone_check', sql`${t.toZone} in (${inList(versionZones)})`),
    check('version_history_zone_change_check', sql`${t.fromZone} is distinct from ${t.toZone}`),
  ],
);
