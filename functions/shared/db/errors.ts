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
