import { describe, expect, it } from 'vitest';
import { alertWebhookSecret, assertFunctionConfig, ConfigError, FUNCTION_REQUIREMENTS, loadConfig } from '../../../functions/shared/config.js';

const strong = 'k1:' + 'x'.repeat(40);
const production = {
  NODE_ENV: 'production',
  INSTANCE_CONNECTION_NAME: 'proj:europe-west1:lattice',
  SESSION_STORE: 'firestore',
  EVENT_SINK: 'bigquery',
  KEY_ENCRYPTOR: 'kms',
  KMS_KEY_NAME: 'projects/p/locations/l/keyRings/r/cryptoKeys/k',
  GOOGLE_CLOUD_PROJECT: 'proj',
  JWT_SECRETS: strong,
  JOBS_AUDIENCE: 'https://jobs.example.run.app',
  JOBS_SERVICE_ACCOUNT: 'scheduler@proj.iam.gserviceaccount.com',
};

describe('configuration', () => {
  it('accepts a complete production configuration', () => {
    const cfg = loadConfig(production);
    expect(cfg.JWT_SECRETS).toEqual([{ kid: 'k1', secret: 'x'.repeat(40) }]);
  });

  it('gives development working defaults without any variable', () => {
    const cfg = loadConfig({});
    expect(cfg.NODE_ENV).toBe('development');
    expect(cfg.JWT_SECRETS[0]!.secret.length).toBeGreaterThanOrEqual(32);
    expect(Buffer.from(cfg.LOCAL_KEYRING!, 'base64')).toHaveLength(32);
  });

  it.each([
    ['JWT_SECRETS', { JWT_SECRETS: 'k1:short-secret' }, /JWT_SECRETS: secret for kid "k1" is shorter than 32/],
    ['INSTANCE_CONNECTION_NAME', { INSTANCE_CONNECTION_NAME: undefined }, /INSTANCE_CONNECTION_NAME: required; the embedded PGlite/],
    ['SESSION_STORE', { SESSION_STORE: 'postgres' }, /SESSION_STORE: must be firestore/],
    ['EVENT_SINK', { EVENT_SINK: 'postgres' }, /EVENT_SINK: must be bigquery/],
    ['KEY_ENCRYPTOR', { KEY_ENCRYPTOR: 'local' }, /KEY_ENCRYPTOR: must be kms/],
    ['KMS_KEY_NAME', { KMS_KEY_NAME: undefined }, /KMS_KEY_NAME: required/],
    ['KMS_EMULATOR_HOST', { KMS_EMULATOR_HOST: '127.0.0.1:9999' }, /KMS_EMULATOR_HOST: a local KMS fake is refused/],
  ])('production refuses a bad %s, naming it', (_name, change, message) => {
    expect(() => loadConfig({ ...production, ...change })).toThrowError(ConfigError);
    expect(() => loadConfig({ ...production, ...change })).toThrowError(message);
  });

  it('a second rotation key that is weak is refused too', () => {
    expect(() => loadConfig({ ...production, JWT_SECRETS: `${strong},old:tooshort` })).toThrowError(/kid "old"/);
  });

  it('names malformed values', () => {
    expect(() => loadConfig({ DATABASE_URL: 'not a url' })).toThrowError(/DATABASE_URL/);
    expect(() => loadConfig({ DB_POOL_MAX: '50' })).toThrowError(/DB_POOL_MAX/);
  });
});

describe('what each function needs at start (FUNCTION_REQUIREMENTS)', () => {
  const secret = 'w'.repeat(40);
  const complete = {
    ...production,
    ALERT_WEBHOOK_SECRET: secret,
    PLATFORM_PROVIDERS: 'openai,my-groq',
    PROVIDER_KEY_OPENAI: 'sk-platform-openai',
    PROVIDER_KEY_MY_GROQ: 'gsk-platform',
    MAILER: 'smtp',
    SMTP_HOST: 'smtp.example.com',
    SMTP_PORT: '465',
    SMTP_USER: 'mailer',
    SMTP_PASSWORD: 'smtp-password',
    MAIL_FROM: 'Lattice Lock <no-reply@example.com>',
    PUBLIC_BASE_URL: 'https://app.example.com',
    ARTIFACT_STORE: 'gcs',
    ARTIFACT_BUCKET: 'proj-lattice-artifacts-prod',
  };

  it.each(Object.keys(FUNCTION_REQUIREMENTS))('%s starts with a complete production configuration', (fn) => {
    expect(() => assertFunctionConfig(fn, loadConfig(complete))).not.toThrow();
  });

  it('collects the platform provider keys by catalog id', () => {
    expect(loadConfig(complete).PROVIDER_KEYS).toEqual({ openai: 'sk-platform-openai', 'my-groq': 'gsk-platform' });
    expect(loadConfig(complete).PLATFORM_PROVIDERS).toEqual(['openai', 'my-groq']);
  });

  it.each([
    ['providers', 'ALERT_WEBHOOK_SECRET', /ALERT_WEBHOOK_SECRET: required/],
    ['jobs', 'ALERT_WEBHOOK_SECRET', /ALERT_WEBHOOK_SECRET: required/],
    ['providers', 'PROVIDER_KEY_MY_GROQ', /PROVIDER_KEY_MY_GROQ: required: PLATFORM_PROVIDERS lists my-groq/],
    ['providers', 'JWT_SECRETS', /JWT_SECRETS: required/],
    ['auth', 'JWT_SECRETS', /JWT_SECRETS: required/],
    ['projects', 'JWT_SECRETS', /JWT_SECRETS: required/],
    ['auth', 'SMTP_PASSWORD', /SMTP_PASSWORD: required with MAILER=smtp/],
    ['auth', 'SMTP_HOST', /SMTP_HOST: required with MAILER=smtp/],
    ['auth', 'MAIL_FROM', /MAIL_FROM: required/],
    ['auth', 'PUBLIC_BASE_URL', /PUBLIC_BASE_URL: required/],
    ['auth', 'MAILER', /MAILER: must be smtp/],
    ['jobs', 'JOBS_AUDIENCE', /JOBS_AUDIENCE: required/],
    ['jobs', 'JOBS_SERVICE_ACCOUNT', /JOBS_SERVICE_ACCOUNT: required/],
    ['projects', 'ARTIFACT_BUCKET', /ARTIFACT_BUCKET: required with ARTIFACT_STORE=gcs/],
    ['jobs', 'ARTIFACT_BUCKET', /ARTIFACT_BUCKET: required with ARTIFACT_STORE=gcs/],
  ])('%s refuses to start without %s, naming it', (fn, variable, message) => {
    const env: Record<string, string | undefined> = { ...complete, [variable]: undefined };
    expect(() => assertFunctionConfig(fn, loadConfig(env))).toThrowError(message);
  });

  it.each(['projects', 'jobs'])('%s refuses the embedded filesystem artifact store', (fn) => {
    expect(() => assertFunctionConfig(fn, loadConfig({ ...complete, ARTIFACT_STORE: 'filesystem' }))).toThrowError(/ARTIFACT_STORE: must be gcs/);
  });

  it('a weak webhook secret is refused in production whichever function reads it', () => {
    expect(() => loadConfig({ ...complete, ALERT_WEBHOOK_SECRET: 'short' })).toThrowError(/ALERT_WEBHOOK_SECRET: shorter than 32/);
  });

  it('the alert webhook secret: the configured one; the development one outside production only', () => {
    expect(alertWebhookSecret(loadConfig(complete))).toBe(secret);
    const development = alertWebhookSecret(loadConfig({}));
    expect(development.length).toBeGreaterThanOrEqual(32);
    expect(alertWebhookSecret(loadConfig({ NODE_ENV: 'test' }))).toBe(development);
    expect(() => alertWebhookSecret(loadConfig({ ...complete, ALERT_WEBHOOK_SECRET: undefined }))).toThrowError(/ALERT_WEBHOOK_SECRET: required \(NODE_ENV=production\)/);
  });

  it('production never falls back to the development JWT secret', () => {
    expect(loadConfig({ ...complete, JWT_SECRETS: undefined }).JWT_SECRETS).toEqual([]);
  });

  it('outside production nothing is required', () => {
    for (const fn of Object.keys(FUNCTION_REQUIREMENTS)) expect(() => assertFunctionConfig(fn, loadConfig({}))).not.toThrow();
  });
});
