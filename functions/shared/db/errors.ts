import { HttpProblem } from '../http/problem.js';

/**
 * drizzle wraps driver errors (DrizzleQueryError with the pg error as `cause`); services map
 * SQLSTATEs to problems, so they need the database's own error whatever wrapped it.
 */
export interface PgError {
  code: string;
  message: string;
  constraint?: string;
  detail?: string;
}

export function pgErrorOf(err: unknown): PgError | undefined {
  for (let e: any = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e as PgError;
  }
  return undefined;
}

export const PG = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
  notNullViolation: '23502',
  raiseException: 'P0001',
  insufficientPrivilege: '42501',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  lockNotAvailable: '55P03',
} as const;

/** PostgreSQL unique_violation (of `constraint`, when named), whether drizzle wrapped the driver error or not. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const pg = pgErrorOf(err);
  return pg?.code === PG.uniqueViolation && (!constraint || pg.constraint === constraint);
}

export interface DatabaseProblemOptions {
  /** A function's own problem for a unique key it knows (e.g. a slug taken), by constraint name. */
  unique?: Record<string, () => HttpProblem>;
}

/**
 * The one mapping from database errors a client can provoke to problems, so none surfaces as a 500:
 * unique (409 duplicate, or the function's own code for the constraint), foreign key (409
 * still-referenced), check (422), an append-only trigger (409 read-only), serialization failure,
 * deadlock and lock timeout (409 retry), and values PostgreSQL cannot store (422 invalid-value).
 * Returns undefined for anything else (the caller rethrows it: a 500 with the error logged).
 */
export function databaseProblem(err: unknown, options: DatabaseProblemOptions = {}): HttpProblem | undefined {
  if (err instanceof HttpProblem) return err;
  const pg = pgErrorOf(err);
  if (!pg) return undefined;
  switch (pg.code) {
    case PG.uniqueViolation:
      return (pg.constraint ? options.unique?.[pg.constraint]?.() : undefined) ?? new HttpProblem(409, 'duplicate', `already exists (${pg.constraint ?? 'unique key'})`);
    case PG.foreignKeyViolation:
      return new HttpProblem(409, 'still-referenced', `the change conflicts with a reference (${pg.constraint ?? 'foreign key'})`);
    case PG.checkViolation:
      return new HttpProblem(422, 'constraint-violated', `a value breaks a rule (${pg.constraint ?? 'check'})`);
    case PG.raiseException:
      return /append-only/.test(pg.message ?? '') ? new HttpProblem(409, 'read-only', 'this record is read-only: append a new one instead') : undefined;
    case PG.serializationFailure:
    case PG.deadlockDetected:
    case PG.lockNotAvailable:
      return new HttpProblem(409, 'retry', 'the change collided with a concurrent one; retry');
    case '22001': // string too long
    case '22003': // numeric out of range
    case '22021': // bad byte sequence (NUL in text)
    case '22P02': // invalid text representation
    case '22P05': // untranslatable character (\u0000 in jsonb)
    case '54001': // statement too complex (absurdly deep JSON)
      return new HttpProblem(422, 'invalid-value', 'a value cannot be stored as given');
    default:
      return undefined;
  }
}
