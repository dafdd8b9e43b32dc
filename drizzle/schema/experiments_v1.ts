import { sql } from 'drizzle-orm';
import { check, foreignKey, index, jsonb, pgSchema, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { actors, id, orgId, softDelete, timestamps, ts, version } from './_columns.js';
import { inList } from './_checks.js';
import { users } from './auth.js';
import { organizations, projects, versions } from './projects.js';

export const experimentsV1Schema = pgSchema('experiments_v1');

export const experimentStatuses = ['draft', 'running', 'completed', 'aborted'] as const;
export type ExperimentStatus = (typeof experimentStatuses)[number];

export const evaluationVerdicts = ['pass', 'fail', 'inconclusive'] as const;
export type EvaluationVerdict = (typeof evaluationVerdicts)[number];

/** requested → approved | rejected; approved → applied. */
export const promotionStatuses = ['requested', 'approved', 'rejected', 'applied'] as const;
export type PromotionStatus = (typeof promotionStatuses)[number];


export const experiments = experimentsV1Schema.table(
  'experiments',
  {
    id: id(),
    orgId: orgId(),
    projectId: uuid('project_id').notNull(),
    versionId: uuid('version_id').notNull(),
    name: text('name').notNull(),
    hypothesis: text('hypothesis'),
    config: jsonb('config').$type<Record<string, unknown>>().notNull().default({}),
    status: text('status').$type<ExperimentStatus>().notNull().default('draft'),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    ...timestamps,
    ...actors,
    ...softDelete,
    ...version,
  },
  (t) => [
    foreignKey({ name: 'experiments_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    foreignKey({ name: 'experiments_project_id_fk', columns: [t.projectId], foreignColumns: [projects.id] }).onDelete('cascade'),
    foreignKey({ name: 'experiments_version_id_fk', columns: [t.versionId], foreignColumns: [versions.id] }).onDelete('cascade'),
    index('experiments_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('experiments_project_id_created_at_id_idx').on(t.projectId, t.createdAt.desc(), t.id),
    index('experiments_version_id_idx').on(t.versionId),
    index('experiments_running_idx').on(t.orgId, t.startedAt).where(sql`${t.status} = 'running'`),
    check('experiments_status_check', sql`${t.status} in (${inList(experimentStatuses)})`),
    check('experiments_finished_check', sql`${t.finishedAt} is null or ${t.startedAt} is null or ${t.finishedAt} >= ${t.startedAt}`),
    check('experiments_version_check', sql`${t.version} > 0`),
  ],
);

/** AI verdict on an experiment's metrics, optionally overridden by a human reviewer. */
export const evaluations = experimentsV1Schema.table(
  'evaluations',
  {
    id: id(),
    orgId: orgId(),
    experimentId: uuid('experiment_id').notNull(),
    metrics: jsonb('metrics').$type<Record<string, unknown>>().notNull().default({}),
    aiVerdict: text('ai_verdict').$type<EvaluationVerdict>().notNull(),
    aiRationale: text('ai_rationale'),
    humanOverride: text('human_override').$type<EvaluationVerdict>(),
    humanOverrideReason: text('human_override_reason'),
    reviewerId: uuid('reviewer_id'),
    reviewedAt: ts('reviewed_at'),
    ...timestamps,
    ...actors,
    ...version,
  },
  (t) => [
    foreignKey({ name: 'evaluations_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    foreignKey({ name: 'evaluations_experiment_id_fk', columns: [t.experimentId], foreignColumns: [experiments.id] }).onDelete('cascade'),
    // 'no action' (checked at statement end): a reviewer named by an override cannot vanish
    // alone (the CHECK below needs it), yet an organization's cascade delete still goes through.
    foreignKey({ name: 'evaluations_reviewer_id_fk', columns: [t.reviewerId], foreignColumns: [users.id] }).onDelete('no action'),
    index('evaluations_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('evaluations_experiment_id_created_at_idx').on(t.experimentId, t.createdAt.desc()),
    index('evaluations_reviewer_id_idx').on(t.reviewerId),
    check('evaluations_ai_verdict_check', sql`${t.aiVerdict} in (${inList(evaluationVerdicts)})`),
    check('evaluations_human_override_check', sql`${t.humanOverride} in (${inList(evaluationVerdicts)})`),
    check(
      'evaluations_override_review_check',
      sql`${t.humanOverride} is null or (${t.humanOverrideReason} is not null and length(btrim(${t.humanOverrideReason})) > 0 and ${t.reviewerId} is not null and ${t.reviewedAt} is not null)`,
    ),
    check('evaluations_version_check', sql`${t.version} > 0`),
  ],
);

/**
 * Promotion workflow of a version (v1 → v2): requested → approved | rejected → applied.
 * The approver is never the requester; at most one open (requested/approved) promotion per version.
 */
export const promotions = experimentsV1Schema.table(
  'promotions',
  {
    id: id(),
    orgId: orgId(),
    projectId: uuid('project_id').notNull(),
    versionId: uuid('version_id').notNull(),
    evaluationId: uuid('evaluation_id'),
    reason: text('reason').notNull(),
    status: text('status').$type<PromotionStatus>().notNull().default('requested'),
    requestedBy: uuid('requested_by').notNull(),
    decidedBy: uuid('decided_by'),
    decidedAt: ts('decided_at'),
    decisionReason: text('decision_reason'),
    appliedAt: ts('applied_at'),
    appliedBy: uuid('applied_by'),
    ...timestamps,
    ...actors,
    ...version,
  },
  (t) => [
    foreignKey({ name: 'promotions_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    foreignKey({ name: 'promotions_project_id_fk', columns: [t.projectId], foreignColumns: [projects.id] }).onDelete('cascade'),
    foreignKey({ name: 'promotions_version_id_fk', columns: [t.versionId], foreignColumns: [versions.id] }).onDelete('cascade'),
    foreignKey({ name: 'promotions_evaluation_id_fk', columns: [t.evaluationId], foreignColumns: [evaluations.id] }).onDelete('set null'),
    // 'no action': the people of the workflow are part of the record (CHECKs below need them).
    foreignKey({ name: 'promotions_requested_by_fk', columns: [t.requestedBy], foreignColumns: [users.id] }).onDelete('no action'),
    foreignKey({ name: 'promotions_decided_by_fk', columns: [t.decidedBy], foreignColumns: [users.id] }).onDelete('no action'),
    foreignKey({ name: 'promotions_applied_by_fk', columns: [t.appliedBy], foreignColumns: [users.id] }).onDelete('no action'),
    uniqueIndex('promotions_open_version_id_uq')
      .on(t.versionId)
      .where(sql`${t.status} in ('requested', 'approved')`),
    index('promotions_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('promotions_project_id_created_at_id_idx').on(t.projectId, t.createdAt.desc(), t.id),
    index('promotions_version_id_idx').on(t.versionId),
    index('promotions_evaluation_id_idx').on(t.evaluationId),
    index('promotions_requested_by_idx').on(t.requestedBy),
    index('promotions_decided_by_idx').on(t.decidedBy),
    index('promotions_applied_by_idx').on(t.appliedBy),
    index('promotions_pending_idx').on(t.orgId, t.createdAt).where(sql`${t.status} = 'requested'`),
    check('promotions_status_check', sql`${t.status} in (${inList(promotionStatuses)})`),
    check('promotions_four_eyes_check', sql`${t.decidedBy} is null or ${t.decidedBy} <> ${t.requestedBy}`),
    check(
      'promotions_decision_check',
      sql`(${t.status} = 'requested') = (${t.decidedBy} is null and ${t.decidedAt} is null)`,
    ),
    check(
      'promotions_applied_check',
      sql`(${t.status} = 'applied') = (${t.appliedAt} is not null and ${t.appliedBy} is not null)`,
    ),
    check('promotions_version_check', sql`${t.version} > 0`),
  ],
);

/** Config hashes that may not be promoted again in the organization. */
export const blacklist = experimentsV1Schema.table(
  'blacklist',
  {
    id: id(),
    orgId: orgId(),
    configHash: text('config_hash').notNull(),
    reason: text('reason').notNull(),
    ...timestamps,
    ...actors,
  },
  (t) => [
    foreignKey({ name: 'blacklist_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    uniqueIndex('blacklist_org_id_config_hash_uq').on(t.orgId, t.configHash),
    index('blacklist_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    check('blacklist_config_hash_check', sql`${t.configHash} ~ '^[0-9a-f]{64}$'`),
  ],
);

export const comparisonReports = experimentsV1Schema.table(
  'comparison_reports',
  {
    id: id(),
    orgId: orgId(),
    projectId: uuid('project_id').notNull(),
    baseVersionId: uuid('base_version_id').notNull(),
    candidateVersionId: uuid('candidate_version_id').notNull(),
    deltas: jsonb('deltas').$type<Record<string, unknown>>().notNull().default({}),
    summary: jsonb('summary').$type<Record<string, unknown>>().notNull().default({}),
    ...timestamps,
    ...actors,
  },
  (t) => [
    foreignKey({ name: 'comparison_reports_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    foreignKey({ name: 'comparison_reports_project_id_fk', columns: [t.projectId], foreignColumns: [projects.id] }).onDelete('cascade'),
    foreignKey({ name: 'comparison_reports_base_version_id_fk', columns: [t.baseVersionId], foreignColumns: [versions.id] }).onDelete('cascade'),
    foreignKey({ name: 'comparison_reports_candidate_version_id_fk', columns: [t.candidateVersionId], foreignColumns: [versions.id] }).onDelete('cascade'),
    index('comparison_reports_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('comparison_reports_project_id_created_at_id_idx').on(t.projectId, t.createdAt.desc(), t.id),
    index('comparison_reports_base_version_id_idx').on(t.baseVersionId),
    index('comparison_reports_candidate_version_id_idx').on(t.candidateVersionId),
    check('comparison_reports_versions_check', sql`${t.baseVersionId} <> ${t.candidateVersionId}`),
  ],
);
