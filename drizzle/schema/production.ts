import { sql } from 'drizzle-orm';
import { bigint, check, foreignKey, index, integer, jsonb, pgSchema, text, uuid } from 'drizzle-orm/pg-core';
import { actors, id, orgId, timestamps, ts } from './_columns.js';
import { inList } from './_checks.js';
import { organizations, projects, versions } from './projects.js';

export const productionSchema = pgSchema('production');

export const analysisStatuses = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export type AnalysisStatus = (typeof analysisStatuses)[number];

export const analysisTaskTypes = ['static', 'dynamic', 'graph', 'ai'] as const;
export type AnalysisTaskType = (typeof analysisTaskTypes)[number];

/** pending: registered, bytes not yet verified; available: the stored object matched its size and SHA-256. */
export const artifactStatuses = ['pending', 'available'] as const;
export type ArtifactStatus = (typeof artifactStatuses)[number];


/** A v2 (production zone) analysis of one version; runs several tasks. */
export const analysisSessions = productionSchema.table(
  'analysis_sessions',
  {
    id: id(),
    orgId: orgId(),
    projectId: uuid('project_id').notNull(),
    versionId: uuid('version_id').notNull(),
    status: text('status').$type<AnalysisStatus>().notNull().default('pending'),
    error: text('error'),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    ...timestamps,
    ...actors,
  },
  (t) => [
    foreignKey({ name: 'analysis_sessions_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    foreignKey({ name: 'analysis_sessions_project_id_fk', columns: [t.projectId], foreignColumns: [projects.id] }).onDelete('cascade'),
    foreignKey({ name: 'analysis_sessions_version_id_fk', columns: [t.versionId], foreignColumns: [versions.id] }).onDelete('cascade'),
    index('analysis_sessions_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('analysis_sessions_project_id_created_at_id_idx').on(t.projectId, t.createdAt.desc(), t.id),
    index('analysis_sessions_version_id_idx').on(t.versionId),
    index('analysis_sessions_active_idx')
      .on(t.orgId, t.createdAt)
      .where(sql`${t.status} in ('pending', 'running')`),
    check('analysis_sessions_status_check', sql`${t.status} in (${inList(analysisStatuses)})`),
    check('analysis_sessions_finished_check', sql`${t.finishedAt} is null or ${t.startedAt} is null or ${t.finishedAt} >= ${t.startedAt}`),
  ],
);

export const analysisTasks = productionSchema.table(
  'analysis_tasks',
  {
    id: id(),
    orgId: orgId(),
    sessionId: uuid('session_id').notNull(),
    type: text('type').$type<AnalysisTaskType>().notNull(),
    status: text('status').$type<AnalysisStatus>().notNull().default('pending'),
    result: jsonb('result').$type<Record<string, unknown>>(),
    error: text('error'),
    attempts: integer('attempts').notNull().default(0),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    ...timestamps,
  },
  (t) => [
    foreignKey({ name: 'analysis_tasks_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    foreignKey({ name: 'analysis_tasks_session_id_fk', columns: [t.sessionId], foreignColumns: [analysisSessions.id] }).onDelete('cascade'),
    index('analysis_tasks_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('analysis_tasks_session_id_created_at_idx').on(t.sessionId, t.createdAt),
    index('analysis_tasks_active_idx')
      .on(t.status, t.createdAt)
      .where(sql`${t.status} in ('pending', 'running')`),
    check('analysis_tasks_type_check', sql`${t.type} in (${inList(analysisTaskTypes)})`),
    check('analysis_tasks_status_check', sql`${t.status} in (${inList(analysisStatuses)})`),
    check('analysis_tasks_attempts_check', sql`${t.attempts} >= 0`),
    check('analysis_tasks_finished_check', sql`${t.finishedAt} is null or ${t.startedAt} is null or ${t.finishedAt} >= ${t.startedAt}`),
  ],
);

/**
 * Files an analysis produced, stored in object storage (uri: gs://bucket/orgs/<org>/artifacts/<id>, a
 * name made from ids only), verified by size and SHA-256 before they become available.
 */
export const artifacts = productionSchema.table(
  'artifacts',
  {
    id: id(),
    orgId: orgId(),
    sessionId: uuid('session_id').notNull(),
    name: text('name').notNull(),
    uri: text('uri').notNull(),
    sha256: text('sha256').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    contentType: text('content_type'),
    status: text('status').$type<ArtifactStatus>().notNull().default('pending'),
    verifiedAt: ts('verified_at'),
    expiresAt: ts('expires_at'),
    ...timestamps,
    ...actors,
  },
  (t) => [
    foreignKey({ name: 'artifacts_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    foreignKey({ name: 'artifacts_session_id_fk', columns: [t.sessionId], foreignColumns: [analysisSessions.id] }).onDelete('cascade'),
    index('artifacts_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('artifacts_session_id_created_at_idx').on(t.sessionId, t.createdAt),
    index('artifacts_expires_at_idx').on(t.expiresAt).where(sql`${t.expiresAt} is not null`),
    check('artifacts_sha256_check', sql`${t.sha256} ~ '^[0-9a-f]{64}$'`),
    check('artifacts_size_bytes_check', sql`${t.sizeBytes} >= 0`),
    check('artifacts_status_check', sql`${t.status} in (${inList(artifactStatuses)})`),
    check('artifacts_available_check', sql`${t.status} <> 'available' or ${t.verifiedAt} is not null`),
  ],
);

export const codeReviewResults = productionSchema.table(
  'code_review_results',
  {
    id: id(),
    orgId: orgId(),
    sessionId: uuid('session_id').notNull(),
    score: integer('score').notNull(),
    findings: jsonb('findings').$type<unknown[]>().notNull().default([]),
    /** Who reviewed: a model id (e.g. 'ai:<model>') or 'user:<uuid>'. */
    reviewer: text('reviewer'),
    ...timestamps,
    ...actors,
  },
  (t) => [
    foreignKey({ name: 'code_review_results_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] }).onDelete('cascade'),
    foreignKey({ name: 'code_review_results_session_id_fk', columns: [t.sessionId], foreignColumns: [analysisSessions.id] }).onDelete('cascade'),
    index('code_review_results_org_id_created_at_id_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('code_review_results_session_id_created_at_idx').on(t.sessionId, t.createdAt),
    check('code_review_results_score_check', sql`${t.score} between 0 and 100`),
  ],
);
