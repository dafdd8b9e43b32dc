import type { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import * as schema from '../../../drizzle/schema/index.js';
import type { SqlClient } from './sql-client.js';

export type Schema = typeof schema;
/** The drizzle instance, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything that can run a drizzle query: the database or an open transaction. */
export type Queryable = Db | Tx;

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

export interface Database {
  readonly kind: 'pg' | 'pglite';
  readonly db: Db;
  /** The pg pool (absent on PGlite): concurrency-sensitive paths may use it directly. */
  readonly pool?: pg.Pool;
  readonly pglite?: PGlite;
  /** The role tenant transactions switch to, so row-level security applies. */
  readonly appRole: string;
  stats(): PoolStats;
  /** A real round trip; resolves to its latency in milliseconds. */
  ping(): Promise<number>;
  /** A dedicated connection for migrations and raw SQL. */
  connect(): Promise<SqlClient>;
  close(): Promise<void>;
}

export { schema };
