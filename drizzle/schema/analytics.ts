import { sql } from 'drizzle-orm';
import { bigint, boolean, check, date, index, integer, jsonb, pgSchema, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { ts } from './_columns.js';

/**
 * Storage of the embedded (PostgreSQL) EventSink adapter; mirrors the BigQuery tables of the cloud adapter,
 * so rows are append-only events without created_at/updated_at. Each table is PARTITION BY RANGE by day
 * (request_logs and audit_events on occurred_at, daily_usage on day), added by hand to the generated SQL;
 * partitions come from analytics.ensure_partitions() (analytics.up.sql). The primary keys include the
 * partition column and make redelivery idempotent (INSERT ... ON CONFLICT DO NOTHING).
 */
export const analyticsSchema = pgSchema('analytics');

const count = (name: string) => bigint(name, { mode: 'number' });

export const requestLogs = analyticsSchema.table(
  'request_logs',
  {
    eventId: uuid('event_id').notNull(),
    occurredAt: ts('occurred_at').notNull(),
    requestId: text('request_id').notNull(),
    orgId: uuid('org_id').notNull(),
    userId: uuid('user_id'),
    provider: text('provider').notNull(),
    model: text('model').notNull(),
    promptTokens: count('prompt_tokens').notNull().default(0),
    completionTokens: count('completion_tokens').notNull().default(0),
    costMicros: count('cost_micros').notNull().default(0),
    latencyMs: integer('latency_ms').notNull().default(0),
    status: integer('status').notNull(),
    stream: boolean('stream').notNull().default(false),
    errorCode: text('error_code'),
  },
  (t) => [
    primaryKey({ name: 'request_logs_pkey', columns: [t.eventId, t.occurredAt] }),
    index('request_logs_org_id_occurred_at_idx').on(t.orgId, t.occurredAt.desc()),
    check('request_logs_prompt_tokens_check', sql`${t.promptTokens} >= 0`),
    check('request_logs_completion_tokens_check', sql`${t.completionTokens} >= 0`),
    check('request_logs_cost_micros_check', sql`${t.costMicros} >= 0`),
    check('request_logs_latency_ms_check', sql`${t.latencyMs} >= 0`),
    check('request_logs_status_check', sql`${t.status} BETWEEN 100 AND 599`),
  ],
);

export const auditEvents = analyticsSchema.table(
  'audit_events',
  {
    eventId: uuid('event_id').notNull(),
    occurredAt: ts('occurred_at').notNull(),
    orgId: uuid('org_id'),
    actorId: uuid('actor_id'),
    action: text('action').notNull(),
    tableSchema: text('table_schema'),
    tableName: text('table_name'),
    rowId: text('row_id'),
    rowHash: text('row_hash'),
    payload: jsonb('payload').notNull().default(sql`'{}'::jsonb`),
  },
  (t) => [
    primaryKey({ name: 'audit_events_pkey', columns: [t.eventId, t.occurredAt] }),
    index('audit_events_org_id_occurred_at_idx').on(t.orgId, t.occurredAt.desc()),
    check('audit_events_action_check', sql`char_length(${t.action}) BETWEEN 1 AND 100`),
  ],
);

export const dailyUsage = analyticsSchema.table(
  'daily_usage',
  {
    eventId: uuid('event_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    orgId: uuid('org_id').notNull(),
    userId: uuid('user_id'),
    provider: text('provider').notNull(),
    model: text('model').notNull(),
    requests: count('requests').notNull().default(0),
    promptTokens: count('prompt_tokens').notNull().default(0),
    completionTokens: count('completion_tokens').notNull().default(0),
    costMicros: count('cost_micros').notNull().default(0),
  },
  (t) => [
    primaryKey({ name: 'daily_usage_pkey', columns: [t.eventId, t.day] }),
    index('daily_usage_org_id_day_idx').on(t.orgId, t.day),
    check('daily_usage_requests_check', sql`${t.requests} >= 0`),
    check('daily_usage_prompt_tokens_check', sql`${t.promptTokens} >= 0`),
    check('daily_usage_completion_tokens_check', sql`${t.completionTokens} >= 0`),
    check('daily_usage_cost_micros_check', sql`${t.costMicros} >= 0`),
  ],
);
