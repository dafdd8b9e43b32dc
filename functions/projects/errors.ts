import { databaseProblem } from '../shared/db/errors.js';
import { problemOf, type ErrorCatalog } from '../shared/http/index.js';

/**
 * The projects function's error catalog: each stable code (problem `type`) with its status; the
 * detail is written where the error is raised. Database errors go through the kernel's mapping
 * (shared/db/errors.ts, applied by the kernel's inTenant) with this function's unique keys
 * (projectsDbErrors), so no database error a client can provoke
 * (bad characters, out-of-range numbers, races on unique keys, the quarantine immutability trigger)
 * ever surfaces as a 500.
 */
export const projectsErrors = {
  slugTaken: problemOf(409, 'slug-taken'),
  nameTaken: problemOf(409, 'name-taken'),
  duplicate: problemOf(409, 'duplicate'),
  illegalTransition: problemOf(409, 'illegal-transition'),
  readOnly: problemOf(409, 'read-only'),
  alreadyResolved: problemOf(409, 'already-resolved'),
  notDeleted: problemOf(409, 'not-deleted'),
  stillReferenced: problemOf(409, 'still-referenced'),
  blacklisted: problemOf(409, 'config-blacklisted'),
  baselinesFailed: problemOf(409, 'baselines-failed'),
  wrongZone: problemOf(409, 'wrong-zone'),
  uploadMissing: problemOf(409, 'upload-missing'),
  notAvailable: problemOf(409, 'artifact-not-available'),
  /** Four eyes: whoever requested a promotion or re-evaluation cannot decide it. */
  selfApproval: problemOf(403, 'self-approval'),
  artifactTooLarge: problemOf(413, 'artifact-too-large'),
  storageQuota: problemOf(429, 'storage-quota-exceeded'),
  checksumMismatch: problemOf(422, 'checksum-mismatch'),
  evaluationMismatch: problemOf(422, 'evaluation-mismatch'),
  sameVersion: problemOf(422, 'same-version'),
  differentProjects: problemOf(422, 'different-projects'),
  invalidField: problemOf(422, 'validation-failed'),
} satisfies ErrorCatalog;

/** The function's unique keys, for the kernel's transaction helpers (`inTenant(c, fn, projectsDbErrors)`). */
export const projectsDbErrors = {
  unique: {
    projects_org_id_slug_uq: () => projectsErrors.slugTaken('already exists (projects_org_id_slug_uq)'),
    policies_org_id_name_uq: () => projectsErrors.nameTaken('already exists (policies_org_id_name_uq)'),
  },
};

/** Maps an error thrown inside a tenant transaction to a problem; returns anything else unchanged. */
export function mapDbError(err: unknown): unknown {
  return databaseProblem(err, projectsDbErrors) ?? err;
}
