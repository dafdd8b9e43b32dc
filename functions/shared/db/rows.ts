/**
 * The rows of a raw `db.execute(sql…)` result: node-postgres answers `{ rows }`, PGlite an array-like
 * result with `rows` as well. `T` names the columns the query selects (the driver does not check them).
 */
export function rowsOf<T = Record<string, unknown>>(result: unknown): T[] {
  const r = result as { rows?: T[] };
  return r.rows ?? (result as T[]);
}
