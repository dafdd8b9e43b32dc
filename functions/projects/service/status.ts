import type { ProjectHealthStatus, ValidationStatus } from '../../../drizzle/schema/projects.js';

export interface StatusInputs {
  schema: ValidationStatus;
  sheriff: ValidationStatus;
  gauntlet: ValidationStatus;
  /** Unresolved project errors by severity. */
  unresolvedErrors: number;
  unresolvedWarnings: number;
}

/**
 * The one place a project's health is decided (never set by hand):
 * - error   — a validation failed, or an error-severity problem is unresolved;
 * - warning — a validation is pending, or a warning-severity problem is unresolved;
 * - unknown — no validation has run (all not_run) and nothing above applies;
 * - healthy — every validation that ran passed. A kind left not_run does not block health:
 *             projects opt into sheriff/gauntlet, and "not configured" is not a defect.
 * Info-severity errors never change the status.
 */
export function deriveProjectStatus(s: StatusInputs): ProjectHealthStatus {
  const results = [s.schema, s.sheriff, s.gauntlet];
  if (results.includes('failed') || s.unresolvedErrors > 0) return 'error';
  if (results.includes('pending') || s.unresolvedWarnings > 0) return 'warning';
  if (results.every((r) => r === 'not_run')) return 'unknown';
  return 'healthy';
}
