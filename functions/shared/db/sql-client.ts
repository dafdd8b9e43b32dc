/**
 * The smallest SQL surface both drivers share: what migrations, health probes and
 * tests need below drizzle. pg (one pooled connection) and PGlite each implement it.
 */
export interface SqlClient {
  /** Runs one or many statements with no parameters (simple protocol). */
  exec(text: string): Promise<void>;
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  release(): Promise<void>;
}
