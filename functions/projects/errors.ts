import { HttpProblem, problems } from '../shared/http/index.js';

/**
 * The projects function's error catalog: stable codes (problem `type`) for the conflicts its
 * services raise, and the one mapping from PostgreSQL errors to problems, so no database error a
 * client can provoke (bad characters, out-of-range numbers, races on unique keys, the quarantine
 * immutability trigger) ever surfaces as a 500.
 */
export const codes = {
  slugTaken: 'slug-taken',
  nameTaken: 'name-taken',
  duplicate: 'duplicate',
  illegalTransition: 'illegal-transition',
  readOnly: 'read-only',
  alreadyResolved: 'already-resolved',
  notDeleted: 'not-deleted',
  stillReferenced: 'still-referenced',
  blacklisted: 'config-blacklisted',
  baselinesFailed: 'baselines-failed',
  fourEyes: 'self-approval',
  wrongZone: 'wrong-zone',
  checksumMismatch: 'checksum-mismatch',
  artifactTooLarge: 'artifact-too-large',
  storageQuota: 'storage-quota-exceeded',
  uploadMissing: 'upload-missing',
  notAvailable: 'artifact-not-available',
} as const;

export const conflict = (code: keyof typeof codes, detail: string, extra: Record<string, unknown> = {}) =>
  new HttpProblem(409, codes[code], detail, extra);

interface PgError {
  code?: string;
  constraint?: string;
  message?: string;
}

function pgErrorOf(err: unknown): PgError | undefined {
  // drizzle wraps driver errors in DrizzleQueryError with the pg error as `cause`.
  for (let e = err as { cause?: unknown; code?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e as PgError;
  }
  return undefined;
}

const UNIQUE_CODES: Record<string, keyof typeof codes> = {
  projects_org_id_slug_uq: 'slugTaken',
  policies_org_id_name_uq: 'nameTaken',
};

/** Maps an error thrown inside a tenant transaction to a problem; returns anything else unchanged. */
export function mapDbError(err: unknown): unknown {
  if (err instanceof HttpProblem) return err;
  const pg = pgErrorOf(err);
  if (!pg?.code) return err;
  switch (pg.code) {
    case '23505': {
      const key = (pg.constraint ? UNIQUE_CODES[pg.constraint] : undefined) ?? 'duplicate';
      return conflict(key, `already exists (${pg.constraint ?? 'unique key'})`);
    }
    case '23503':
      return conflict('stillReferenced', `the change conflicts with a reference (${pg.constraint ?? 'foreign key'})`);
    case '23514':
      return new HttpProblem(422, 'constraint-violated', `a value breaks a rule (${pg.constraint ?? 'check'})`);
    case 'P0001':
      if (/append-only/.test(pg.message ?? '')) return conflict('readOnly', 'this record is read-only: append a new one instead');
      return err;
    case '40001':
    case '40P01':
      return problems.conflict('the change collided with a concurrent one; retry', 'retry');
    case '22001': // string too long
    case '22003': // numeric out of range
    case '22021': // bad byte sequence (NUL in text)
    case '22P02': // invalid text representation
    case '22P05': // untranslatable character (\u0000 in jsonb)
    case '54001': // statement too complex (absurdly deep JSON)
      return new HttpProblem(422, 'invalid-value', 'a value cannot be stored as given');
    default:
      return err;
  }
}
