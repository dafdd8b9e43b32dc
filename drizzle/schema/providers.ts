import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  date,
  foreignKey,
  index,
  integer,
  pgSchema,
  text,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { actors, id, orgId, softDelete, timestamps, ts, version } from './_columns.js';
import { users } from './auth.js';
import { organizations } from './projects.js';

export const providersSchema = pgSchema('providers');

/** Adapter kinds the gateway speaks; shared by the catalog and BYOK rows. */
const KINDS = sql`('openai', 'anthropic', 'gemini', 'openai_compatible')`;
const HEALTH = sql`('healthy', 'degraded', 'down', 'unknown')`;

const micros = (name: string) => bigint(name, { mode: 'number' });
const tokens = (name: string) => bigint(name, { mode: 'number' });

/** Platform catalog: one row per upstream we can route to ('openai', 'anthropic', ...). Read-only to the app. */
export const providers = providersSchema.table(
  'providers',
  {
    id: text('id').primaryKey(),
    kind: text('kind').notNull(),
    displayName: text('display_name').notNull(),
    baseUrl: text('base_url'),
    enabled: boolean('enabled').notNull().default(true),
    ...timestamps,
    ...actors,
    ...version,
  },
  (t) => [
    check('providers_id_check', sql`${t.id} ~ '^[a-z0-9][a-z0-9_-]{0,62}$'`),
    check('providers_version_check', sql`${t.version} > 0`),
    check('providers_kind_check', sql`${t.kind} IN ${KINDS}`),
    check('providers_base_url_check', sql`${t.baseUrl} IS NULL OR ${t.baseUrl} ~ '^https?://'`),
  ],
);

/** Models of a catalog provider with list prices in integer micro-dollars per million tokens. */
export const providerModels = providersSchema.table(
  'provider_models',
  {
    id: id(),
    providerId: text('provider_id').notNull(),
    model: text('model').notNull(),
    inputPriceMicrosPerMtok: micros('input_price_micros_per_mtok').notNull(),
    outputPriceMicrosPerMtok: micros('output_price_micros_per_mtok').notNull(),
    /** Prompt tokens read from the provider's cache; null = the input price. */
    cachedInputPriceMicrosPerMtok: micros('cached_input_price_micros_per_mtok'),
    /** Prompt tokens written to the cache (Anthropic cache_creation_input_tokens); null = the input price. */
    cacheWritePriceMicrosPerMtok: micros('cache_write_price_micros_per_mtok'),
    /** Reasoning tokens where a provider bills them apart; null = the output price. */
    reasoningPriceMicrosPerMtok: micros('reasoning_price_micros_per_mtok'),
    contextWindow: integer('context_window'),
    maxOutputTokens: integer('max_output_tokens'),
    enabled: boolean('enabled').notNull().default(true),
    ...timestamps,
    ...actors,
    ...version,
  },
  (t) => [
    foreignKey({ name: 'provider_models_provider_id_fk', columns: [t.providerId], foreignColumns: [providers.id] })
      .onDelete('cascade'),
    uniqueIndex('provider_models_provider_id_model_uq').on(t.providerId, t.model),
    check('provider_models_version_check', sql`${t.version} > 0`),
    check('provider_models_model_check', sql`char_length(${t.model}) BETWEEN 1 AND 200`),
    check('provider_models_input_price_check', sql`${t.inputPriceMicrosPerMtok} >= 0`),
    check('provider_models_output_price_check', sql`${t.outputPriceMicrosPerMtok} >= 0`),
    check('provider_models_cached_input_price_check', sql`${t.cachedInputPriceMicrosPerMtok} IS NULL OR ${t.cachedInputPriceMicrosPerMtok} >= 0`),
    check('provider_models_cache_write_price_check', sql`${t.cacheWritePriceMicrosPerMtok} IS NULL OR ${t.cacheWritePriceMicrosPerMtok} >= 0`),
    check('provider_models_reasoning_price_check', sql`${t.reasoningPriceMicrosPerMtok} IS NULL OR ${t.reasoningPriceMicrosPerMtok} >= 0`),
    check('provider_models_context_window_check', sql`${t.contextWindow} IS NULL OR ${t.contextWindow} > 0`),
    check('provider_models_max_output_tokens_check', sql`${t.maxOutputTokens} IS NULL OR ${t.maxOutputTokens} > 0`),
  ],
);

/**
 * BYOK: a user's own upstream key. `encrypted_key` holds the envelope (KMS-wrapped data key + AES-256-GCM
 * ciphertext, JSON/base64), never the plaintext; `fingerprint` is the last 4 characters shown in the UI.
 * base_url SSRF rules (https only in production, no private/loopback/link-local after DNS) are enforced by
 * the service, since they depend on DNS and the environment; the CHECK only rejects non-http schemes.
 */
export const userProviders = providersSchema.table(
  'user_providers',
  {
    id: id(),
    orgId: orgId(),
    userId: uuid('user_id').notNull(),
    provider: text('provider').notNull(),
    catalogProviderId: text('catalog_provider_id'),
    name: text('name').notNull(),
    encryptedKey: text('encrypted_key').notNull(),
    keyVersion: text('key_version'),
    fingerprint: text('fingerprint').notNull(),
    baseUrl: text('base_url'),
    /** Output cap reserved (and sent where the provider requires one) for models the catalog does not list. */
    defaultMaxOutputTokens: integer('default_max_output_tokens'),
    /** Drop chat parameters this provider cannot honour instead of answering 400 (as `drop_params: true` per request). */
    dropParams: boolean('drop_params').notNull().default(false),
    status: text('status').notNull().default('active'),
    lastVerifiedAt: ts('last_verified_at'),
    ...timestamps,
    ...actors,
    ...softDelete,
    ...version,
  },
  (t) => [
    foreignKey({ name: 'user_providers_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] })
      .onDelete('cascade'),
    foreignKey({ name: 'user_providers_user_id_fk', columns: [t.userId], foreignColumns: [users.id] })
      .onDelete('cascade'),
    foreignKey({
      name: 'user_providers_catalog_provider_id_fk',
      columns: [t.catalogProviderId],
      foreignColumns: [providers.id],
    }).onDelete('set null'),
    // Route names are unique per user among live rows; a deleted name can be reused.
    uniqueIndex('user_providers_user_id_name_uq').on(t.userId, t.name).where(sql`${t.deletedAt} IS NULL`),
    index('user_providers_user_id_created_at_idx').on(t.userId, t.createdAt.desc(), t.id),
    index('user_providers_org_id_created_at_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('user_providers_catalog_provider_id_idx').on(t.catalogProviderId),
    check('user_providers_version_check', sql`${t.version} > 0`),
    check('user_providers_provider_check', sql`${t.provider} IN ${KINDS}`),
    check('user_providers_name_check', sql`${t.name} ~ '^[a-z0-9][a-z0-9_-]{0,62}$'`),
    check('user_providers_status_check', sql`${t.status} IN ('active', 'invalid', 'revoked')`),
    check('user_providers_encrypted_key_check', sql`char_length(${t.encryptedKey}) > 0`),
    check('user_providers_fingerprint_check', sql`char_length(${t.fingerprint}) BETWEEN 1 AND 4`),
    check('user_providers_base_url_check', sql`${t.baseUrl} IS NULL OR ${t.baseUrl} ~ '^https?://'`),
    check('user_providers_default_max_output_tokens_check', sql`${t.defaultMaxOutputTokens} IS NULL OR ${t.defaultMaxOutputTokens} BETWEEN 1 AND 10000000`),
  ],
);

/**
 * Current health of a catalog provider: one row per provider. Flap suppression: a probe result that differs
 * from `status` goes to `pending_status`; `consecutive` counts agreeing results, and `status` changes only
 * after 3 in a row.
 */
export const providerHealth = providersSchema.table(
  'provider_health',
  {
    id: id(),
    providerId: text('provider_id').notNull(),
    status: text('status').notNull().default('unknown'),
    latencyMs: integer('latency_ms'),
    consecutive: integer('consecutive').notNull().default(0),
    pendingStatus: text('pending_status'),
    lastError: text('last_error'),
    checkedAt: ts('checked_at'),
    ...timestamps,
  },
  (t) => [
    foreignKey({ name: 'provider_health_provider_id_fk', columns: [t.providerId], foreignColumns: [providers.id] })
      .onDelete('cascade'),
    uniqueIndex('provider_health_provider_id_uq').on(t.providerId),
    check('provider_health_status_check', sql`${t.status} IN ${HEALTH}`),
    check('provider_health_pending_status_check', sql`${t.pendingStatus} IS NULL OR ${t.pendingStatus} IN ${HEALTH}`),
    check('provider_health_latency_ms_check', sql`${t.latencyMs} IS NULL OR ${t.latencyMs} >= 0`),
    check('provider_health_consecutive_check', sql`${t.consecutive} >= 0`),
  ],
);

/** Probe history (append-only; pruned by a job). */
export const providerHealthChecks = providersSchema.table(
  'provider_health_checks',
  {
    id: id(),
    providerId: text('provider_id').notNull(),
    status: text('status').notNull(),
    latencyMs: integer('latency_ms'),
    error: text('error'),
    checkedAt: ts('checked_at').notNull().defaultNow(),
    createdAt: timestamps.createdAt,
  },
  (t) => [
    foreignKey({ name: 'provider_health_checks_provider_id_fk', columns: [t.providerId], foreignColumns: [providers.id] })
      .onDelete('cascade'),
    index('provider_health_checks_provider_id_checked_at_idx').on(t.providerId, t.checkedAt.desc()),
    index('provider_health_checks_checked_at_idx').on(t.checkedAt),
    check('provider_health_checks_status_check', sql`${t.status} IN ${HEALTH}`),
    check('provider_health_checks_latency_ms_check', sql`${t.latencyMs} IS NULL OR ${t.latencyMs} >= 0`),
  ],
);

/** Limits per user (user_id set) or for the whole org (user_id null). Null limit = unlimited. */
export const userQuotas = providersSchema.table(
  'user_quotas',
  {
    id: id(),
    orgId: orgId(),
    userId: uuid('user_id'),
    dailyTokenLimit: tokens('daily_token_limit'),
    monthlyTokenLimit: tokens('monthly_token_limit'),
    dailyCostLimitMicros: micros('daily_cost_limit_micros'),
    monthlyCostLimitMicros: micros('monthly_cost_limit_micros'),
    ...timestamps,
    ...actors,
    ...version,
  },
  (t) => [
    foreignKey({ name: 'user_quotas_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] })
      .onDelete('cascade'),
    foreignKey({ name: 'user_quotas_user_id_fk', columns: [t.userId], foreignColumns: [users.id] })
      .onDelete('cascade'),
    // NULLS NOT DISTINCT (PG15+): at most one org-wide row (user_id null) per org.
    unique('user_quotas_org_id_user_id_uq').on(t.orgId, t.userId).nullsNotDistinct(),
    index('user_quotas_user_id_idx').on(t.userId).where(sql`${t.userId} IS NOT NULL`),
    check('user_quotas_version_check', sql`${t.version} > 0`),
    check('user_quotas_daily_token_limit_check', sql`${t.dailyTokenLimit} IS NULL OR ${t.dailyTokenLimit} >= 0`),
    check('user_quotas_monthly_token_limit_check', sql`${t.monthlyTokenLimit} IS NULL OR ${t.monthlyTokenLimit} >= 0`),
    check('user_quotas_daily_cost_limit_check', sql`${t.dailyCostLimitMicros} IS NULL OR ${t.dailyCostLimitMicros} >= 0`),
    check(
      'user_quotas_monthly_cost_limit_check',
      sql`${t.monthlyCostLimitMicros} IS NULL OR ${t.monthlyCostLimitMicros} >= 0`,
    ),
  ],
);

/**
 * One row per subject and period. The gateway reserves with a single conditional statement, e.g.
 *   UPDATE providers.quota_counters SET tokens_reserved = tokens_reserved + $n
 *   WHERE id = $id AND (token_limit IS NULL OR tokens_used + tokens_reserved + $n <= token_limit)
 * so the limits are copied here from user_quotas. Settlement may push used past the limit (actual usage
 * exceeded the estimate), hence no CHECK used <= limit.
 */
export const quotaCounters = providersSchema.table(
  'quota_counters',
  {
    id: id(),
    orgId: orgId(),
    subjectType: text('subject_type').notNull(),
    subjectId: uuid('subject_id').notNull(),
    period: text('period').notNull(),
    periodStart: date('period_start', { mode: 'string' }).notNull(),
    tokensUsed: tokens('tokens_used').notNull().default(0),
    tokensReserved: tokens('tokens_reserved').notNull().default(0),
    costUsedMicros: micros('cost_used_micros').notNull().default(0),
    costReservedMicros: micros('cost_reserved_micros').notNull().default(0),
    /** Sum of the live quota_leases' holdings on this row: room set aside for gateway instances. */
    tokensLeased: tokens('tokens_leased').notNull().default(0),
    costLeasedMicros: micros('cost_leased_micros').notNull().default(0),
    tokenLimit: tokens('token_limit'),
    costLimitMicros: micros('cost_limit_micros'),
    ...timestamps,
  },
  (t) => [
    foreignKey({ name: 'quota_counters_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] })
      .onDelete('cascade'),
    uniqueIndex('quota_counters_subject_period_uq').on(t.subjectType, t.subjectId, t.period, t.periodStart),
    index('quota_counters_org_id_period_start_idx').on(t.orgId, t.periodStart),
    check('quota_counters_subject_type_check', sql`${t.subjectType} IN ('user', 'org')`),
    check('quota_counters_org_subject_check', sql`${t.subjectType} <> 'org' OR ${t.subjectId} = ${t.orgId}`),
    check('quota_counters_period_check', sql`${t.period} IN ('daily', 'monthly')`),
    check('quota_counters_tokens_used_check', sql`${t.tokensUsed} >= 0`),
    check('quota_counters_tokens_reserved_check', sql`${t.tokensReserved} >= 0`),
    check('quota_counters_cost_used_check', sql`${t.costUsedMicros} >= 0`),
    check('quota_counters_cost_reserved_check', sql`${t.costReservedMicros} >= 0`),
    check('quota_counters_tokens_leased_check', sql`${t.tokensLeased} >= 0`),
    check('quota_counters_cost_leased_check', sql`${t.costLeasedMicros} >= 0`),
    check('quota_counters_token_limit_check', sql`${t.tokenLimit} IS NULL OR ${t.tokenLimit} >= 0`),
    check('quota_counters_cost_limit_check', sql`${t.costLimitMicros} IS NULL OR ${t.costLimitMicros} >= 0`),
  ],
);

/**
 * A gateway instance's lease on one limited quota counter (see functions/providers/service/leases/).
 * `tokens_held`/`cost_held_micros` is the room set aside for this holder; the counter's
 * tokens_leased/cost_leased_micros is the sum over its leases, so admission for everyone else judges
 * used + reserved + leased. The holder serves new reservations from memory only until `serve_until`
 * (a few seconds: limit changes take effect then); `expires_at` adds the longest a call may run, after
 * which the expiry job gives back whatever the holder did not settle (a killed instance).
 */
export const quotaLeases = providersSchema.table(
  'quota_leases',
  {
    id: id(),
    orgId: orgId(),
    counterId: uuid('counter_id').notNull(),
    holder: text('holder').notNull(),
    tokensHeld: tokens('tokens_held').notNull().default(0),
    costHeldMicros: micros('cost_held_micros').notNull().default(0),
    serveUntil: ts('serve_until').notNull(),
    expiresAt: ts('expires_at').notNull(),
    ...timestamps,
  },
  (t) => [
    foreignKey({ name: 'quota_leases_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] })
      .onDelete('cascade'),
    foreignKey({ name: 'quota_leases_counter_id_fk', columns: [t.counterId], foreignColumns: [quotaCounters.id] })
      .onDelete('cascade'),
    uniqueIndex('quota_leases_counter_id_holder_uq').on(t.counterId, t.holder),
    index('quota_leases_expires_at_idx').on(t.expiresAt),
    check('quota_leases_holder_check', sql`char_length(${t.holder}) BETWEEN 1 AND 200`),
    check('quota_leases_tokens_held_check', sql`${t.tokensHeld} >= 0`),
    check('quota_leases_cost_held_check', sql`${t.costHeldMicros} >= 0`),
    check('quota_leases_expiry_check', sql`${t.expiresAt} >= ${t.serveUntil}`),
  ],
);

/** Per user/provider/model/day totals, upserted (INSERT ... ON CONFLICT (user_id, provider, model, day)). */
export const usageTracking = providersSchema.table(
  'usage_tracking',
  {
    id: id(),
    orgId: orgId(),
    userId: uuid('user_id').notNull(),
    provider: text('provider').notNull(),
    model: text('model').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    requests: bigint('requests', { mode: 'number' }).notNull().default(0),
    promptTokens: tokens('prompt_tokens').notNull().default(0),
    completionTokens: tokens('completion_tokens').notNull().default(0),
    costMicros: micros('cost_micros').notNull().default(0),
    ...timestamps,
  },
  (t) => [
    foreignKey({ name: 'usage_tracking_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] })
      .onDelete('cascade'),
    foreignKey({ name: 'usage_tracking_user_id_fk', columns: [t.userId], foreignColumns: [users.id] })
      .onDelete('cascade'),
    uniqueIndex('usage_tracking_user_provider_model_day_uq').on(t.userId, t.provider, t.model, t.day),
    index('usage_tracking_org_id_day_idx').on(t.orgId, t.day),
    check('usage_tracking_requests_check', sql`${t.requests} >= 0`),
    check('usage_tracking_prompt_tokens_check', sql`${t.promptTokens} >= 0`),
    check('usage_tracking_completion_tokens_check', sql`${t.completionTokens} >= 0`),
    check('usage_tracking_cost_micros_check', sql`${t.costMicros} >= 0`),
  ],
);

/**
 * A request's hold on its quota counters (natural key: the gateway request id, so retries are idempotent).
 * `counter_ids` lists the quota_counters rows charged (each with the same amounts), so settle/release and
 * the expiry sweep give back exactly what was reserved.
 */
export const quotaReservations = providersSchema.table(
  'quota_reservations',
  {
    requestId: text('request_id').primaryKey(),
    orgId: orgId(),
    userId: uuid('user_id').notNull(),
    state: text('state').notNull().default('reserved'),
    tokensReserved: tokens('tokens_reserved').notNull().default(0),
    costReservedMicros: micros('cost_reserved_micros').notNull().default(0),
    tokensUsed: tokens('tokens_used').notNull().default(0),
    costUsedMicros: micros('cost_used_micros').notNull().default(0),
    counterIds: uuid('counter_ids').array().notNull().default(sql`'{}'::uuid[]`),
    expiresAt: ts('expires_at').notNull(),
    settledAt: ts('settled_at'),
    ...timestamps,
  },
  (t) => [
    foreignKey({ name: 'quota_reservations_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] })
      .onDelete('cascade'),
    foreignKey({ name: 'quota_reservations_user_id_fk', columns: [t.userId], foreignColumns: [users.id] })
      .onDelete('cascade'),
    index('quota_reservations_expires_at_idx').on(t.expiresAt).where(sql`${t.state} IN ('reserved', 'leased')`),
    index('quota_reservations_org_id_created_at_idx').on(t.orgId, t.createdAt.desc()),
    index('quota_reservations_user_id_idx').on(t.userId),
    check('quota_reservations_request_id_check', sql`char_length(${t.requestId}) BETWEEN 1 AND 200`),
    check('quota_reservations_state_check', sql`${t.state} IN ('reserved', 'leased', 'settled', 'released')`),
    check('quota_reservations_settled_at_check', sql`(${t.state} IN ('reserved', 'leased')) = (${t.settledAt} IS NULL)`),
    check('quota_reservations_tokens_reserved_check', sql`${t.tokensReserved} >= 0`),
    check('quota_reservations_cost_reserved_check', sql`${t.costReservedMicros} >= 0`),
    check('quota_reservations_tokens_used_check', sql`${t.tokensUsed} >= 0`),
    check('quota_reservations_cost_used_check', sql`${t.costUsedMicros} >= 0`),
  ],
);

/**
 * Threshold alerts on quota use (percent of the limit; > 100 allowed to alert on overruns). Fired at most once
 * per period: `last_fired_period_start` is compared with the counter's period_start.
 */
export const costAlerts = providersSchema.table(
  'cost_alerts',
  {
    id: id(),
    orgId: orgId(),
    userId: uuid('user_id'),
    thresholdPercent: integer('threshold_percent').notNull(),
    period: text('period').notNull(),
    metric: text('metric').notNull(),
    channel: text('channel').notNull(),
    target: text('target'),
    lastFiredAt: ts('last_fired_at'),
    lastFiredPeriodStart: date('last_fired_period_start', { mode: 'string' }),
    enabled: boolean('enabled').notNull().default(true),
    ...timestamps,
    ...actors,
    ...version,
  },
  (t) => [
    foreignKey({ name: 'cost_alerts_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] })
      .onDelete('cascade'),
    foreignKey({ name: 'cost_alerts_user_id_fk', columns: [t.userId], foreignColumns: [users.id] })
      .onDelete('cascade'),
    index('cost_alerts_org_id_created_at_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('cost_alerts_user_id_idx').on(t.userId).where(sql`${t.userId} IS NOT NULL`),
    index('cost_alerts_enabled_idx').on(t.orgId, t.period).where(sql`${t.enabled}`),
    check('cost_alerts_version_check', sql`${t.version} > 0`),
    check('cost_alerts_threshold_percent_check', sql`${t.thresholdPercent} BETWEEN 1 AND 1000`),
    check('cost_alerts_period_check', sql`${t.period} IN ('daily', 'monthly')`),
    check('cost_alerts_metric_check', sql`${t.metric} IN ('tokens', 'cost')`),
    check('cost_alerts_channel_check', sql`${t.channel} IN ('webhook', 'log')`),
    check(
      'cost_alerts_target_check',
      sql`(${t.channel} = 'webhook') = (${t.target} IS NOT NULL) AND (${t.target} IS NULL OR ${t.target} ~ '^https?://')`,
    ),
  ],
);

/**
 * Gateway keys: only a display prefix and the sha256 (hex) of the full key are stored. Lookup by hash happens
 * before the tenant is known, so it goes through providers.authenticate_api_key() (SECURITY DEFINER, in
 * providers.up.sql) rather than through RLS.
 */
export const apiKeys = providersSchema.table(
  'api_keys',
  {
    id: id(),
    orgId: orgId(),
    userId: uuid('user_id').notNull(),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    keyHash: text('key_hash').notNull(),
    scopes: text('scopes').array().notNull().default(sql`'{}'::text[]`),
    expiresAt: ts('expires_at'),
    revokedAt: ts('revoked_at'),
    lastUsedAt: ts('last_used_at'),
    ...timestamps,
    ...actors,
  },
  (t) => [
    foreignKey({ name: 'api_keys_org_id_fk', columns: [t.orgId], foreignColumns: [organizations.id] })
      .onDelete('cascade'),
    foreignKey({ name: 'api_keys_user_id_fk', columns: [t.userId], foreignColumns: [users.id] }).onDelete('cascade'),
    uniqueIndex('api_keys_prefix_uq').on(t.prefix),
    uniqueIndex('api_keys_key_hash_uq').on(t.keyHash),
    index('api_keys_org_id_created_at_idx').on(t.orgId, t.createdAt.desc(), t.id),
    index('api_keys_user_id_created_at_idx').on(t.userId, t.createdAt.desc(), t.id),
    check('api_keys_name_check', sql`char_length(${t.name}) BETWEEN 1 AND 100`),
    check('api_keys_prefix_check', sql`${t.prefix} ~ '^llk_[A-Za-z0-9]{4,32}$'`),
    check('api_keys_key_hash_check', sql`${t.keyHash} ~ '^[0-9a-f]{64}$'`),
  ],
);
