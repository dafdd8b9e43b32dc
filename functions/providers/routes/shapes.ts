import { z } from '@hono/zod-openapi';

/**
 * The providers function's response bodies, from what its services return (alertView, keyView,
 * api-keys' view, listCatalog, providerHealthReport, quotas' read, usageReport, model-lists'
 * publicEntry). The handlers' `c.json(…, status)` is type-checked against these, so a field that
 * changes in a service and not here fails the typecheck. OpenAI-compatible bodies (chat completion,
 * embeddings) keep any further fields the provider sends (looseObject).
 */
const isoTime = z.string().openapi({ format: 'date-time' });
const int = z.number().int();

export const CostAlertSchema = z
  .object({
    id: z.uuid(),
    scope: z.string().openapi({ enum: ['user', 'org'] }),
    user_id: z.uuid().nullable(),
    threshold_percent: int,
    period: z.string(),
    metric: z.string(),
    channel: z.string(),
    target: z.string().nullable(),
    enabled: z.boolean(),
    last_fired_at: isoTime.nullable(),
    last_fired_period_start: z.string().nullable(),
    created_at: isoTime,
    version: int,
  })
  .openapi('CostAlert');

export const ApiKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(z.string()),
    expires_at: isoTime.nullable(),
    revoked_at: isoTime.nullable(),
    last_used_at: isoTime.nullable(),
    created_at: isoTime,
  })
  .openapi('ApiKey');

export const ApiKeyCreatedSchema = ApiKeySchema.extend({ key: z.string().openapi({ description: 'The key itself, shown only in this response' }) }).openapi('ApiKeyCreated');

export const ProviderKeySchema = z
  .object({
    id: z.uuid(),
    provider: z.string(),
    name: z.string(),
    fingerprint: z.string(),
    status: z.string(),
    base_url: z.string().nullable(),
    catalog_provider_id: z.string().nullable(),
    key_version: z.string().nullable(),
    default_max_output_tokens: int.nullable(),
    drop_params: z.boolean(),
    last_verified_at: isoTime.nullable(),
    created_at: isoTime,
    version: int,
  })
  .openapi('ProviderKey');

export const VerifiedKeySchema = ProviderKeySchema.extend({ verified: z.boolean() }).openapi('VerifiedProviderKey');

const prices = {
  input_price_micros_per_mtok: int,
  output_price_micros_per_mtok: int,
  cached_input_price_micros_per_mtok: int.nullable(),
  cache_write_price_micros_per_mtok: int.nullable(),
  reasoning_price_micros_per_mtok: int.nullable(),
};

export const CatalogProviderSchema = z
  .object({ id: z.string(), kind: z.string(), display_name: z.string(), base_url: z.string().nullable(), enabled: z.boolean(), version: int })
  .openapi('CatalogProviderRow');

export const CatalogEntrySchema = CatalogProviderSchema.extend({
  models: z.array(z.object({ model: z.string(), ...prices, context_window: int.nullable(), max_output_tokens: int.nullable(), enabled: z.boolean() })),
}).openapi('CatalogProvider');

export const CatalogModelSchema = z
  .object({ provider_id: z.string(), model: z.string(), ...prices, context_window: int.nullable(), max_output_tokens: int.nullable(), enabled: z.boolean(), version: int })
  .openapi('CatalogModel');

export const ProviderHealthSchema = z
  .object({
    provider_id: z.string(),
    status: z.string(),
    latency_ms: int.nullable(),
    checked_at: isoTime.nullable(),
    last_error: z.string().nullable(),
    recent_checks: z.array(z.object({ status: z.string(), latency_ms: int.nullable(), error: z.string().nullable(), checked_at: isoTime })),
  })
  .openapi('ProviderHealth');

const QuotaPeriodSchema = z
  .object({
    period_start: z.string(),
    token_limit: int.nullable(),
    tokens_used: int,
    tokens_reserved: int.openapi({ description: 'Worst cases of calls in flight that reserved a row (GATEWAY_QUOTA_LEASES=off).' }),
    tokens_leased: int.openapi({ description: 'Allowance gateway instances hold as quota leases: their calls in flight and what they may serve next. A new call is admitted on limit − used − reserved − leased (plus what its instance holds unused).' }),
    cost_limit_micros: int.nullable(),
    cost_used_micros: int,
    cost_reserved_micros: int,
    cost_leased_micros: int,
  })
  .openapi('QuotaPeriod');

export const OrgQuotaSchema = z.object({ daily: QuotaPeriodSchema, monthly: QuotaPeriodSchema, version: int }).openapi('OrgQuota');

export const UserQuotaSchema = z
  .object({ user_id: z.uuid(), daily: QuotaPeriodSchema, monthly: QuotaPeriodSchema, organization: z.object({ daily: QuotaPeriodSchema, monthly: QuotaPeriodSchema }), version: int })
  .openapi('UserQuota');

const usageCounts = { requests: int, prompt_tokens: int, completion_tokens: int, cost_micros: int };
export const UsageSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    group_by: z.string(),
    user_id: z.uuid(),
    items: z.array(z.object({ day: z.string().nullish(), provider: z.string().nullish(), model: z.string().nullish(), ...usageCounts })),
    totals: z.object(usageCounts),
  })
  .openapi('Usage');

export const ModelSchema = z.object({ id: z.string(), object: z.literal('model'), created: int, owned_by: z.string() }).openapi('Model');
export const ModelListSchema = z.object({ object: z.literal('list'), data: z.array(ModelSchema) }).openapi('ModelList');

const usage = z.looseObject({ prompt_tokens: int, completion_tokens: int.optional(), total_tokens: int });
export const ChatCompletionSchema = z
  .looseObject({
    id: z.string(),
    object: z.literal('chat.completion'),
    created: int,
    model: z.string(),
    choices: z.array(z.looseObject({ index: int, message: z.looseObject({ role: z.string(), content: z.string().nullable() }), finish_reason: z.string().nullable() })),
    usage: usage.optional(),
  })
  .openapi('ChatCompletion');

export const EmbeddingListSchema = z
  .looseObject({
    object: z.literal('list'),
    data: z.array(z.looseObject({ object: z.literal('embedding'), index: int, embedding: z.union([z.array(z.number()), z.string()]) })),
    model: z.string(),
    usage: usage.optional(),
  })
  .openapi('CreateEmbeddingResponse');
