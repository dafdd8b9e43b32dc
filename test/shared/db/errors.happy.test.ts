import { describe, expect, it } from 'vitest';
import { databaseProblem, isUniqueViolation } from '../../../functions/shared/db/errors.js';
import { HttpProblem } from '../../../functions/shared/http/problem.js';

/** A driver error as pg raises it (SQLSTATE in `code`), wrapped the way drizzle wraps it (DrizzleQueryError, `cause`). */
const pgError = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error('Failed query: insert …'), { query: 'insert …', params: [], cause: Object.assign(new Error('db says no'), { code, severity: 'ERROR', ...extra }) });

const mapped = (err: unknown, options = {}) => {
  const problem = databaseProblem(err, options);
  return problem && { status: problem.status, code: problem.code, detail: problem.message };
};

describe('databaseProblem: the kernel mapping from database errors to problems', () => {
  it('maps a unique violation to the function\'s own problem for that constraint, else 409 duplicate', () => {
    const taken = () => new HttpProblem(409, 'slug-taken', 'taken');
    expect(mapped(pgError('23505', { constraint: 'orgs_slug_uq' }), { unique: { orgs_slug_uq: taken } })).toEqual({ status: 409, code: 'slug-taken', detail: 'taken' });
    expect(mapped(pgError('23505', { constraint: 'other_uq' }), { unique: { orgs_slug_uq: taken } })).toEqual({ status: 409, code: 'duplicate', detail: 'already exists (other_uq)' });
  });

  it('maps foreign key, check, serialization, deadlock and lock timeout', () => {
    expect(mapped(pgError('23503', { constraint: 'fk' }))).toMatchObject({ status: 409, code: 'still-referenced' });
    expect(mapped(pgError('23514', { constraint: 'ck' }))).toMatchObject({ status: 422, code: 'constraint-violated' });
    for (const code of ['40001', '40P01', '55P03']) expect(mapped(pgError(code))).toMatchObject({ status: 409, code: 'retry' });
  });

  it('maps values the database cannot store to 422 and the append-only trigger to 409 read-only', () => {
    for (const code of ['22001', '22003', '22021', '22P02', '22P05', '54001']) expect(mapped(pgError(code))).toMatchObject({ status: 422, code: 'invalid-value' });
    const appendOnly = Object.assign(new Error('records are append-only'), { code: 'P0001' });
    expect(mapped(appendOnly)).toMatchObject({ status: 409, code: 'read-only' });
  });

  it('leaves other errors to the caller (they become a logged 500) and passes problems through', () => {
    expect(databaseProblem(new Error('boom'))).toBeUndefined();
    expect(databaseProblem(Object.assign(new Error('raise'), { code: 'P0001' }))).toBeUndefined();
    expect(databaseProblem(pgError('08006'))).toBeUndefined();
    const problem = new HttpProblem(404, 'not-found', 'x');
    expect(databaseProblem(problem)).toBe(problem);
  });

  it('finds a unique violation by constraint through drizzle\'s wrapper', () => {
    expect(isUniqueViolation(pgError('23505', { constraint: 'users_email_lower_uq' }), 'users_email_lower_uq')).toBe(true);
    expect(isUniqueViolation(pgError('23505', { constraint: 'x' }), 'users_email_lower_uq')).toBe(false);
    expect(isUniqueViolation(pgError('23503'))).toBe(false);
  });
});
