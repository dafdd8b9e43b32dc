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
  // Secrets: "kid:secret,kid2:secret2" — the first signs, all verify (rotation).
  JWT_SECRETS: secretList.optional(),
  LOCAL_KEYRING: z.string().optional(),
  // Jobs (Cloud Scheduler OIDC)
  JOBS_AUDIENCE: z.string().optional(),
  JOBS_SERVICE_ACCOUNT: z.string().optional(),
  JOBS_JWKS_URL: z.string().url().optional(),
  GATEWAY_UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(1).default(120_000),
  PUBLIC_BASE_URL: z.string().url().optional(),
  // Proxies at the right of X-Forwarded-For whose entries are trusted (http/client-ip.ts): 1 behind
  // Google's front end alone, +1 per load balancer in front, 0 with no proxy (the dev server).
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(1),
});

export type Config = z.infer<typeof envSchema> & { JWT_SECRETS: { kid: string; secret: string }[] };

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
    JWT_SECRETS: cfg.JWT_SECRETS?.length ? cfg.JWT_SECRETS : secretList.parse(DEV_JWT_SECRET),
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
  if (!cfg.GOOGLE_CLOUD_PROJECT) refuse('GOOGLE_CLOUD_PROJECT', 'required');
  if (!cfg.JWT_SECRETS?.length) refuse('JWT_SECRETS', 'required');
  for (const { kid, secret } of cfg.JWT_SECRETS ?? []) {
    if (Buffer.byteLength(secret) < MIN_SECRET) refuse('JWT_SECRETS', `secret for kid "${kid}" is shorter than ${MIN_SECRET} characters`);
  }
  if (!cfg.JOBS_AUDIENCE) refuse('JOBS_AUDIENCE', 'required (the jobs function URL)');
  if (!cfg.JOBS_SERVICE_ACCOUNT) refuse('JOBS_SERVICE_ACCOUNT', 'required (the scheduler service account)');
}

let cached: Config | undefined;
/** The instance's configuration, parsed on first use. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
