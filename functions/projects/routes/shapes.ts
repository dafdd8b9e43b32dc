import { z } from '@hono/zod-openapi';
import {
  baselineOperators,
  projectErrorSeverities,
  projectHealthStatuses,
  validationKinds,
  validationStatuses,
  versionZones,
  type baselines,
  type policies,
  type projectErrors,
  type projects,
  type rollbackCheckpoints,
  type validations,
  type versionHistory,
  type versions,
} from '../../../drizzle/schema/projects.js';
import { iso, isoNN, jsonObject } from './support.js';

/** Response shapes (snake_case, as DESIGN.md §4) and the one serializer per row type. */

export const ProjectSchema = z
  .object({
    id: z.string(),
    org_id: z.string(),
    name: z.string(),
    slug: z.string(),
    description: z.string().nullable(),
    status: z.enum(projectHealthStatuses),
    schema_status: z.enum(validationStatuses),
    sheriff_status: z.enum(validationStatuses),
    gauntlet_status: z.enum(validationStatuses),
    last_validated_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    created_by: z.string().nullable(),
    updated_by: z.string().nullable(),
    deleted_at: z.string().nullable(),
    version: z.number().int(),
  })
  .openapi('Project');

export const projectOut = (r: typeof projects.$inferSelect): z.infer<typeof ProjectSchema> => ({
  id: r.id,
  org_id: r.orgId,
  name: r.name,
  slug: r.slug,
  description: r.description,
  status: r.status,
  schema_status: r.schemaStatus,
  sheriff_status: r.sheriffStatus,
  gauntlet_status: r.gauntletStatus,
  last_validated_at: iso(r.lastValidatedAt),
  created_at: isoNN(r.createdAt),
  updated_at: isoNN(r.updatedAt),
  created_by: r.createdBy,
  updated_by: r.updatedBy,
  deleted_at: iso(r.deletedAt),
  version: r.version,
});

export const ValidationSchema = z
  .object({
    id: z.string().nullable(),
    project_id: z.string(),
    kind: z.enum(validationKinds),
    result: z.enum(validationStatuses),
    details: jsonObject,
    finished_at: z.string().nullable(),
    created_at: z.string().nullable(),
    created_by: z.string().nullable(),
  })
  .openapi('Validation');

export const validationOut = (r: typeof validations.$inferSelect): z.infer<typeof ValidationSchema> => ({
  id: r.id,
  project_id: r.projectId,
  kind: r.kind,
  result: r.result,
  details: r.details,
  finished_at: iso(r.finishedAt),
  created_at: isoNN(r.createdAt),
  created_by: r.createdBy,
});

export const ProjectErrorSchema = z
  .object({
    id: z.string(),
    project_id: z.string(),
    validation_id: z.string().nullable(),
    code: z.string(),
    message: z.string(),
    file_path: z.string().nullable(),
    line_number: z.number().int().nullable(),
    severity: z.enum(projectErrorSeverities),
    resolved_at: z.string().nullable(),
    resolved_by: z.string().nullable(),
    created_at: z.string(),
    created_by: z.string().nullable(),
  })
  .openapi('ProjectError');

export const projectErrorOut = (r: typeof projectErrors.$inferSelect): z.infer<typeof ProjectErrorSchema> => ({
  id: r.id,
  project_id: r.projectId,
  validation_id: r.validationId,
  code: r.code,
  message: r.message,
  file_path: r.filePath,
  line_number: r.lineNumber,
  severity: r.severity,
  resolved_at: iso(r.resolvedAt),
  resolved_by: r.resolvedBy,
  created_at: isoNN(r.createdAt),
  created_by: r.createdBy,
});

export const CheckpointSchema = z
  .object({
    id: z.string(),
    project_id: z.string(),
    reason: z.string().nullable(),
    snapshot: jsonObject,
    created_at: z.string(),
    created_by: z.string().nullable(),
  })
  .openapi('Checkpoint');

export const checkpointOut = (r: typeof rollbackCheckpoints.$inferSelect): z.infer<typeof CheckpointSchema> => ({
  id: r.id,
  project_id: r.projectId,
  reason: r.reason,
  snapshot: r.snapshot,
  created_at: isoNN(r.createdAt),
  created_by: r.createdBy,
});

export const VersionSchema = z
  .object({
    id: z.string(),
    project_id: z.string(),
    version_number: z.number().int(),
    zone: z.enum(versionZones),
    config: jsonObject,
    config_hash: z.string(),
    notes: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    created_by: z.string().nullable(),
    version: z.number().int(),
  })
  .openapi('Version');

export const versionOut = (r: typeof versions.$inferSelect): z.infer<typeof VersionSchema> => ({
  id: r.id,
  project_id: r.projectId,
  version_number: r.versionNumber,
  zone: r.zone,
  config: r.config,
  config_hash: r.configHash,
  notes: r.notes,
  created_at: isoNN(r.createdAt),
  updated_at: isoNN(r.updatedAt),
  created_by: r.createdBy,
  version: r.version,
});

export const VersionHistorySchema = z
  .object({
    id: z.string(),
    project_id: z.string(),
    version_id: z.string(),
    from_zone: z.enum(versionZones).nullable(),
    to_zone: z.enum(versionZones),
    reason: z.string().nullable(),
    actor_id: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('VersionHistory');

export const versionHistoryOut = (r: typeof versionHistory.$inferSelect): z.infer<typeof VersionHistorySchema> => ({
  id: r.id,
  project_id: r.projectId,
  version_id: r.versionId,
  from_zone: r.fromZone,
  to_zone: r.toZone,
  reason: r.reason,
  actor_id: r.actorId,
  created_at: isoNN(r.createdAt),
});

export const BaselineSchema = z
  .object({
    id: z.string(),
    project_id: z.string(),
    metric: z.string(),
    operator: z.enum(baselineOperators),
    threshold: z.number(),
    created_at: z.string(),
    updated_at: z.string(),
    version: z.number().int(),
  })
  .openapi('Baseline');

export const baselineOut = (r: typeof baselines.$inferSelect): z.infer<typeof BaselineSchema> => ({
  id: r.id,
  project_id: r.projectId,
  metric: r.metric,
  operator: r.operator,
  threshold: r.threshold,
  created_at: isoNN(r.createdAt),
  updated_at: isoNN(r.updatedAt),
  version: r.version,
});

export const PolicySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    rego: z.string(),
    version: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
    created_by: z.string().nullable(),
    deleted_at: z.string().nullable(),
  })
  .openapi('Policy');

export const policyOut = (r: typeof policies.$inferSelect): z.infer<typeof PolicySchema> => ({
  id: r.id,
  name: r.name,
  description: r.description,
  rego: r.rego,
  version: r.version,
  created_at: isoNN(r.createdAt),
  updated_at: isoNN(r.updatedAt),
  created_by: r.createdBy,
  deleted_at: iso(r.deletedAt),
});
