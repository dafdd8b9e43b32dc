import { z } from 'zod';

/**
 * Environment configuration, validated once per instance.
 * Production refuses embedded adapters and weak or missing secrets, naming the variable,
 * so a misconfigured deploy fails at start instead of at the first login.
 */
const MIN_SECRET = 32;

const secretList = z
  .string()
  .transform((raw) =>
    raw
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean)
      .map((entry) => {
        const at = entry.indexOf(':');
        return at > 0 ? { kid: entry.slice(0, at), secret: entry.slice(at + 1) } : { kid: 'k1', secret: entry };
      }),
  );

const idList = z
  .string()
  .transform((raw) => raw.split(',').map((id) => id.trim().toLowerCase()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'provider ids are lower-case letters, digits and dashes')));

/** PROVIDER_KEY_OPENAI → openai, PROVIDER_KEY_MY_GROQ → my-groq. */
export const providerKeyVariable = (id: string) => `PROVIDER_KEY_${id.toUpperCase().replace(/-/g, '_')}`;

function providerKeysFrom(env: NodeJS.ProcessEnv): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const m = name.match(/^PROVIDER_KEY_([A-Z0-9_]+)$/);
    if (m && value?.trim()) keys[m[1]!.toLowerCase().replace(/_/g, '-')] = value.trim();
  }
  return keys;
}

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  // Database: DATABASE_URL (pg), INSTANCE_CONNECTION_NAME (Cloud SQL connector, IAM), or neither (PGlite).
  DATABASE_URL: z.string().url().optional(),
  INSTANCE_CONNECTION_NAME: z.string().regex(/^[^:]+:[^:]+:[^:]+$/, 'project:region:instance').optional(),
  DB_USER: z.string().optional(),
  DB_NAME: z.string().default('lattice'),
  DB_IP_TYPE: z.enum(['PRIVATE', 'PUBLIC', 'PSC']).default('PRIVATE'),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(10).default(10),
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  DB_APP_ROLE: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('lattice_app'),
  PGLITE_DIR: z.string().default('.data/pglite'),
  // Adapters
  SESSION_STORE: z.enum(['firestore', 'postgres']).default('postgres'),
  EVENT_SINK: z.enum(['bigquery', 'postgres']).default('postgres'),
  KEY_ENCRYPTOR: z.enum(['kms', 'local']).default('local'),
  GOOGLE_CLOUD_PROJECT: z.string().optional(),
  FIRESTORE_DATABASE: z.string().default('(default)'),
  BIGQUERY_DATASET: z.string().default('lattice_events'),
  KMS_KEY_NAME: z.string().optional(),
  KMS_SIGNING_KEY_VERSION: z.string().optional(),
  // host:port of a local Cloud KMS REST fake (benchmarks, tests); refused in production.
  KMS_EMULATOR_HOST: z.string().regex(/^[\w.-]+:\d{1,5}$/, 'host:port').optional(),
  // Unwrapped data keys kept per instance (crypto/dek-cache.ts): 0 turns the cache off.
  KMS_DEK_CACHE_TTL_MS: z.coerce.number().int().min(0).max(3_600_000).default(300_000),
  KMS_DEK_CACHE_MAX: z.coerce.number().int().min(0).max(100_000).default(1_000),
  // Secrets: "kid:secret,kid2:secret2" — the first signs, all verify (rotation).
  JWT_SECRETS: secretList.optional(),
  LOCAL_KEYRING: z.string().optional(),
  // Jobs (Cloud Scheduler OIDC)
  JOBS_AUDIENCE: z.string().optional(),
  JOBS_SERVICE_ACCOUNT: z.string().optional(),
  JOBS_JWKS_URL: z.string().url().optional(),
  GATEWAY_UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(1).default(120_000),
  // Quota leases (providers/service/leases): each instance serves reservations from an allowance leased
  // from PostgreSQL instead of one reservation row per call. GATEWAY_LEASE_SERVE_MS bounds how long an
  // admin's new limit may take to bind.
  GATEWAY_QUOTA_LEASES: z.enum(['on', 'off']).default('on'),
  GATEWAY_LEASE_SERVE_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  // Set by Cloud Run on every instance (container runtime contract, "Environment variables"): names the
  // revision in a quota lease's holder id, so an operator can tell which deploy holds allowance.
  K_REVISION: z.string().min(1).optional(),
  // Where links in mail point (the auth function's public URL or the web app in front of it).
  PUBLIC_BASE_URL: z.string().url().optional(),
  // Proxies at the right of X-Forwarded-For whose entries are trusted (http/client-ip.ts): 1 behind
  // Google's front end alone, +1 per load balancer in front, 0 with no proxy (the dev server).
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(1),
  // Cost-alert webhooks are signed with it (providers and jobs send them; receivers verify either).
  ALERT_WEBHOOK_SECRET: z.string().optional(),
  // Catalog providers the platform has its own upstream account for ("openai,anthropic"); each needs
  // PROVIDER_KEY_<ID> (upper case, '-' as '_'), collected into PROVIDER_KEYS below.
  PLATFORM_PROVIDERS: idList.default([]),
  // Mail: `log` writes a line without the link (development); `smtp` sends through SMTP over TLS.
  MAILER: z.enum(['log', 'smtp']).default('log'),
  SMTP_HOST: z.string().optional(),
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(465),
  SMTP_USER: z.string().optional(),
  SMTP_PASSWORD: z.string().optional(),
  // Extra trusted CA (PEM) for an SMTP relay with a private CA; public relays need none.
  SMTP_CA: z.string().optional(),
  MAIL_FROM: z.string().optional(),
  // Analysis artifacts: Cloud Storage (production) or files under the dev server's data directory.
  ARTIFACT_STORE: z.enum(['gcs', 'filesystem']).default('filesystem'),
  ARTIFACT_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/, 'a Cloud Storage bucket name').optional(),
  ARTIFACT_DIR: z.string().default('.data/artifacts'),
  /** Where the projects function is reached, for the embedded store's upload and download links. */
  ARTIFACT_BASE_URL: z.string().url().default('http://127.0.0.1:8080/projects'),
  ARTIFACT_MAX_BYTES: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(1024 ** 3),
  ARTIFACT_ORG_QUOTA_BYTES: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(50 * 1024 ** 3),
  // The interactive API reference at /<fn>/docs: always served outside production, in production only
  // when this is "true" (it reveals every route and schema, which the OpenAPI document at /openapi.json
  // already does, but a browsable page invites probing; off unless asked for).
  API_DOCS: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
});

export type Config = z.infer<typeof envSchema> & {
  JWT_SECRETS: { kid: string; secret: string }[];
  /** Platform upstream keys by catalog provider id, from the PROVIDER_KEY_* variables. */
  PROVIDER_KEYS: Record<string, string>;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Development-only secrets: long enough for HS256, refused in production. */
const DEV_JWT_SECRET = 'dev:lattice-lock-development-only-jwt-secret-0000';
const DEV_KEYRING = 'ZGV2LW9ubHktbG9jYWwta2V5cmluZy0wMDAwMDAwMDA='; // 32 bytes, dev only

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${detail}`);
  }
  const cfg = parsed.data;
  const prod = cfg.NODE_ENV === 'production';
  if (prod) assertProduction(cfg);
  return {
    ...cfg,
    PROVIDER_KEYS: providerKeysFrom(env),
    // Production never falls back to the development secret: a function that needs one refuses to start
    // (assertFunctionConfig), one that does not (jobs) verifies nothing with an empty list.
    JWT_SECRETS: cfg.JWT_SECRETS?.length ? cfg.JWT_SECRETS : prod ? [] : secretList.parse(DEV_JWT_SECRET),
    LOCAL_KEYRING: cfg.LOCAL_KEYRING ?? (prod ? undefined : DEV_KEYRING),
  };
}

function assertProduction(cfg: z.infer<typeof envSchema>): void {
  const refuse = (variable: string, why: string) => {
    throw new ConfigError(`${variable}: ${why} (NODE_ENV=production)`);
  };
  if (!cfg.DATABASE_URL && !cfg.INSTANCE_CONNECTION_NAME) refuse('INSTANCE_CONNECTION_NAME', 'required; the embedded PGlite database is refused');
  if (cfg.SESSION_STORE !== 'firestore') refuse('SESSION_STORE', 'must be firestore; the embedded postgres store is refused');
  if (cfg.EVENT_SINK !== 'bigquery') refuse('EVENT_SINK', 'must be bigquery; the embedded postgres sink is refused');
  if (cfg.KEY_ENCRYPTOR !== 'kms') refuse('KEY_ENCRYPTOR', 'must be kms; the local keyring is refused');
  if (!cfg.KMS_KEY_NAME) refuse('KMS_KEY_NAME', 'required with KEY_ENCRYPTOR=kms');
  if (cfg.KMS_EMULATOR_HOST) refuse('KMS_EMULATOR_HOST', 'a local KMS fake is refused');
  if (!cfg.GOOGLE_CLOUD_PROJECT) refuse('GOOGLE_CLOUD_PROJECT', 'required');
  // Secrets that are set must be strong whichever function reads them; which function needs which is
  // FUNCTION_REQUIREMENTS below, checked by assertFunctionConfig when a function starts.
  for (const { kid, secret } of cfg.JWT_SECRETS ?? []) {
    if (Buffer.byteLength(secret) < MIN_SECRET) refuse('JWT_SECRETS', `secret for kid "${kid}" is shorter than ${MIN_SECRET} characters`);
  }
  if (cfg.ALERT_WEBHOOK_SECRET !== undefined && Buffer.byteLength(cfg.ALERT_WEBHOOK_SECRET) < MIN_SECRET) {
    refuse('ALERT_WEBHOOK_SECRET', `shorter than ${MIN_SECRET} characters`);
  }
}

type Requirement = (cfg: Config, refuse: (variable: string, why: string) => never) => void;
const required =
  (variable: keyof Config & string, why = 'required'): Requirement =>
  (cfg, refuse) => {
    const value = cfg[variable];
    if (value === undefined || (Array.isArray(value) && !value.length)) refuse(variable, why);
  };

/** Analysis artifacts (projects stores them, jobs deletes expired ones): Cloud Storage, never the filesystem. */
const artifactStore: Requirement[] = [
  (cfg, refuse) => {
    if (cfg.ARTIFACT_STORE !== 'gcs') refuse('ARTIFACT_STORE', 'must be gcs; the embedded filesystem store is refused');
  },
  required('ARTIFACT_BUCKET', 'required with ARTIFACT_STORE=gcs'),
];

/**
 * What each function reads beyond the common kernel, refused at start in production when missing.
 * terraform/modules/functions provides exactly these to each function (test/infra checks both ways):
 * a secret listed here for a function is mounted on it and granted to its service account, no other.
 */
export const FUNCTION_REQUIREMENTS: Record<string, { variables: string[]; secrets: string[]; check: Requirement[] }> = {
  auth: {
    variables: ['MAILER', 'MAIL_FROM', 'PUBLIC_BASE_URL'],
    secrets: ['JWT_SECRETS', 'SMTP_HOST', 'SMTP_PORT', 'SMTP_USER', 'SMTP_PASSWORD'],
    check: [
      required('JWT_SECRETS'),
      (cfg, refuse) => {
        if (cfg.MAILER !== 'smtp') refuse('MAILER', 'must be smtp; the log mailer sends nothing');
      },
      required('SMTP_HOST', 'required with MAILER=smtp'),
      required('SMTP_USER', 'required with MAILER=smtp'),
      required('SMTP_PASSWORD', 'required with MAILER=smtp'),
      required('MAIL_FROM', 'required with MAILER=smtp'),
      required('PUBLIC_BASE_URL', 'required: links in mail point there'),
    ],
  },
  projects: { variables: ['ARTIFACT_STORE', 'ARTIFACT_BUCKET'], secrets: ['JWT_SECRETS'], check: [required('JWT_SECRETS'), ...artifactStore] },
  providers: {
    variables: ['PLATFORM_PROVIDERS'],
    secrets: ['JWT_SECRETS', 'ALERT_WEBHOOK_SECRET', 'PROVIDER_KEY_*'],
    check: [
      required('JWT_SECRETS'),
      required('ALERT_WEBHOOK_SECRET', 'required: cost-alert webhooks are signed with it'),
      (cfg, refuse) => {
        for (const id of cfg.PLATFORM_PROVIDERS) {
          if (!cfg.PROVIDER_KEYS[id]) refuse(providerKeyVariable(id), `required: PLATFORM_PROVIDERS lists ${id}`);
        }
      },
    ],
  },
  jobs: {
    variables: ['JOBS_AUDIENCE', 'JOBS_SERVICE_ACCOUNT', 'ARTIFACT_STORE', 'ARTIFACT_BUCKET'],
    secrets: ['ALERT_WEBHOOK_SECRET'],
    check: [
      required('JOBS_AUDIENCE', 'required (the jobs function URL)'),
      required('JOBS_SERVICE_ACCOUNT', 'required (the scheduler service account)'),
      required('ALERT_WEBHOOK_SECRET', 'required: cost-alert webhooks are signed with it'),
      ...artifactStore,
    ],
  },
};

/** The start check of one function: in production, everything FUNCTION_REQUIREMENTS lists for it. */
export function assertFunctionConfig(fn: string, cfg: Config): void {
  if (cfg.NODE_ENV !== 'production') return;
  const refuse = (variable: string, why: string): never => {
    throw new ConfigError(`${variable}: ${why} (NODE_ENV=production)`);
  };
  for (const check of FUNCTION_REQUIREMENTS[fn]?.check ?? []) check(cfg, refuse);
}

/** Development-only webhook signing secret: receivers in development verify with it. */
const DEV_WEBHOOK_SECRET = 'lattice-lock-development-only-webhook-secret';

/**
 * The cost-alert webhook signing secret, the same for every function that sends alerts (providers, jobs) so
 * receivers verify either. Outside production the development secret stands in; production never falls
 * back (assertFunctionConfig already refuses to start without a strong one, this is belt and braces).
 */
export function alertWebhookSecret(cfg: Config): string {
  const production = cfg.NODE_ENV === 'production';
  const secret = cfg.ALERT_WEBHOOK_SECRET ?? (production ? undefined : DEV_WEBHOOK_SECRET);
  if (production && !secret) throw new ConfigError('ALERT_WEBHOOK_SECRET: required (NODE_ENV=production)');
  return secret!;
}

let cached: Config | undefined;
/** The instance's configuration, parsed on first use. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
