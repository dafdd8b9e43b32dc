import { z } from '@hono/zod-openapi';
import { evaluationVerdicts, experimentStatuses, promotionStatuses, type blacklist, type comparisonReports, type evaluations, type experiments, type promotions } from '../../../drizzle/schema/experiments_v1.js';
import { analysisStatuses, analysisTaskTypes, artifactStatuses, type analysisSessions, type analysisTasks, type artifacts, type codeReviewResults } from '../../../drizzle/schema/production.js';
import { quarantineSources, reevaluationStatuses, type quarantineRecords, type reevaluationRequests } from '../../../drizzle/schema/quarantine.js';
import { iso, isoNN, jsonObject } from './support.js';

/** Response shapes of the lifecycle zones (v1 experiments, v2 production, v3 quarantine). */

export const ExperimentSchema = z
  .object({
    id: z.string(), project_id: z.string(), version_id: z.string(), name: z.string(), hypothesis: z.string().nullable(), config: jsonObject,
    status: z.enum(experimentStatuses), started_at: z.string().nullable(), finished_at: z.string().nullable(), created_at: z.string(), created_by: z.string().nullable(), version: z.number().int(),
  })
  .openapi('Experiment');

export const experimentOut = (r: typeof experiments.$inferSelect): z.infer<typeof ExperimentSchema> => ({
  id: r.id, project_id: r.projectId, version_id: r.versionId, name: r.name, hypothesis: r.hypothesis, config: r.config,
  status: r.status, started_at: iso(r.startedAt), finished_at: iso(r.finishedAt), created_at: isoNN(r.createdAt), created_by: r.createdBy, version: r.version,
});

export const EvaluationSchema = z
  .object({
    id: z.string(), experiment_id: z.string(), metrics: jsonObject, ai_verdict: z.enum(evaluationVerdicts), ai_rationale: z.string().nullable(),
    human_override: z.enum(evaluationVerdicts).nullable(), human_override_reason: z.string().nullable(), reviewer_id: z.string().nullable(), reviewed_at: z.string().nullable(),
    verdict: z.enum(evaluationVerdicts).openapi({ description: 'the verdict that counts: the human override when present, else the AI verdict' }),
    created_at: z.string(), created_by: z.string().nullable(), version: z.number().int(),
  })
  .openapi('Evaluation');

export const evaluationOut = (r: typeof evaluations.$inferSelect): z.infer<typeof EvaluationSchema> => ({
  id: r.id, experiment_id: r.experimentId, metrics: r.metrics, ai_verdict: r.aiVerdict, ai_rationale: r.aiRationale,
  human_override: r.humanOverride, human_override_reason: r.humanOverrideReason, reviewer_id: r.reviewerId, reviewed_at: iso(r.reviewedAt),
  verdict: r.humanOverride ?? r.aiVerdict, created_at: isoNN(r.createdAt), created_by: r.createdBy, version: r.version,
});

export const PromotionSchema = z
  .object({
    id: z.string(), project_id: z.string(), version_id: z.string(), evaluation_id: z.string().nullable(), reason: z.string(), status: z.enum(promotionStatuses),
    requested_by: z.string(), decided_by: z.string().nullable(), decided_at: z.string().nullable(), decision_reason: z.string().nullable(),
    applied_by: z.string().nullable(), applied_at: z.string().nullable(), created_at: z.string(), version: z.number().int(),
  })
  .openapi('Promotion');

export const promotionOut = (r: typeof promotions.$inferSelect): z.infer<typeof PromotionSchema> => ({
  id: r.id, project_id: r.projectId, version_id: r.versionId, evaluation_id: r.evaluationId, reason: r.reason, status: r.status,
  requested_by: r.requestedBy, decided_by: r.decidedBy, decided_at: iso(r.decidedAt), decision_reason: r.decisionReason,
  applied_by: r.appliedBy, applied_at: iso(r.appliedAt), created_at: isoNN(r.createdAt), version: r.version,
});

export const BlacklistSchema = z
  .object({ id: z.string(), config_hash: z.string(), reason: z.string(), created_at: z.string(), created_by: z.string().nullable() })
  .openapi('BlacklistEntry');

export const blacklistOut = (r: typeof blacklist.$inferSelect): z.infer<typeof BlacklistSchema> => ({
  id: r.id, config_hash: r.configHash, reason: r.reason, created_at: isoNN(r.createdAt), created_by: r.createdBy,
});

export const ComparisonSchema = z
  .object({ id: z.string(), project_id: z.string(), base_version_id: z.string(), candidate_version_id: z.string(), deltas: jsonObject, summary: jsonObject, created_at: z.string() })
  .openapi('Comparison');

export const comparisonOut = (r: typeof comparisonReports.$inferSelect): z.infer<typeof ComparisonSchema> => ({
  id: r.id, project_id: r.projectId, base_version_id: r.baseVersionId, candidate_version_id: r.candidateVersionId, deltas: r.deltas, summary: r.summary, created_at: isoNN(r.createdAt),
});

export const SessionSchema = z
  .object({
    id: z.string(), project_id: z.string(), version_id: z.string(), status: z.enum(analysisStatuses), error: z.string().nullable(),
    started_at: z.string().nullable(), finished_at: z.string().nullable(), created_at: z.string(), created_by: z.string().nullable(),
  })
  .openapi('AnalysisSession');

export const sessionOut = (r: typeof analysisSessions.$inferSelect): z.infer<typeof SessionSchema> => ({
  id: r.id, project_id: r.projectId, version_id: r.versionId, status: r.status, error: r.error,
  started_at: iso(r.startedAt), finished_at: iso(r.finishedAt), created_at: isoNN(r.createdAt), created_by: r.createdBy,
});

export const TaskSchema = z
  .object({
    id: z.string(), session_id: z.string(), type: z.enum(analysisTaskTypes), status: z.enum(analysisStatuses), result: jsonObject.nullable(), error: z.string().nullable(),
    attempts: z.number().int(), started_at: z.string().nullable(), finished_at: z.string().nullable(), created_at: z.string(),
  })
  .openapi('AnalysisTask');

export const taskOut = (r: typeof analysisTasks.$inferSelect): z.infer<typeof TaskSchema> => ({
  id: r.id, session_id: r.sessionId, type: r.type, status: r.status, result: r.result, error: r.error,
  attempts: r.attempts, started_at: iso(r.startedAt), finished_at: iso(r.finishedAt), created_at: isoNN(r.createdAt),
});

export const ArtifactSchema = z
  .object({
    id: z.string(), session_id: z.string(), name: z.string(), uri: z.string(), sha256: z.string(), size_bytes: z.number().int(), content_type: z.string().nullable(),
    status: z.enum(artifactStatuses), verified_at: z.string().nullable(), expires_at: z.string().nullable(), created_at: z.string(),
  })
  .openapi('Artifact');

export const artifactOut = (r: typeof artifacts.$inferSelect): z.infer<typeof ArtifactSchema> => ({
  id: r.id, session_id: r.sessionId, name: r.name, uri: r.uri, sha256: r.sha256, size_bytes: r.sizeBytes, content_type: r.contentType,
  status: r.status, verified_at: iso(r.verifiedAt), expires_at: iso(r.expiresAt), created_at: isoNN(r.createdAt),
});

export const ReviewSchema = z
  .object({ id: z.string(), session_id: z.string(), score: z.number().int(), findings: z.array(z.unknown()), reviewer: z.string().nullable(), created_at: z.string() })
  .openapi('CodeReviewResult');

export const reviewOut = (r: typeof codeReviewResults.$inferSelect): z.infer<typeof ReviewSchema> => ({
  id: r.id, session_id: r.sessionId, score: r.score, findings: r.findings, reviewer: r.reviewer, created_at: isoNN(r.createdAt),
});

export const QuarantineRecordSchema = z
  .object({
    id: z.string(), project_id: z.string(), version_id: z.string(), config_hash: z.string(), config: jsonObject, reason: z.string(), evidence: jsonObject,
    source: z.enum(quarantineSources), created_at: z.string(), created_by: z.string().nullable(),
  })
  .openapi('QuarantineRecord');

export const recordOut = (r: typeof quarantineRecords.$inferSelect): z.infer<typeof QuarantineRecordSchema> => ({
  id: r.id, project_id: r.projectId, version_id: r.versionId, config_hash: r.configHash, config: r.config, reason: r.reason, evidence: r.evidence,
  source: r.source, created_at: isoNN(r.createdAt), created_by: r.createdBy,
});

export const ReevaluationSchema = z
  .object({
    id: z.string(), record_id: z.string(), reason: z.string(), status: z.enum(reevaluationStatuses), requested_by: z.string(), decided_by: z.string().nullable(),
    decided_at: z.string().nullable(), decision_reason: z.string().nullable(), new_version_id: z.string().nullable(), created_at: z.string(), version: z.number().int(),
  })
  .openapi('ReevaluationRequest');

export const reevaluationOut = (r: typeof reevaluationRequests.$inferSelect): z.infer<typeof ReevaluationSchema> => ({
  id: r.id, record_id: r.recordId, reason: r.reason, status: r.status, requested_by: r.requestedBy, decided_by: r.decidedBy,
  decided_at: iso(r.decidedAt), decision_reason: r.decisionReason, new_version_id: r.newVersionId, created_at: isoNN(r.createdAt), version: r.version,
});
