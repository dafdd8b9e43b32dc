import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../functions/shared/config.js';

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
    ['JWT_SECRETS', { JWT_SECRETS: undefined }, /JWT_SECRETS: required/],
    ['INSTANCE_CONNECTION_NAME', { INSTANCE_CONNECTION_NAME: undefined }, /INSTANCE_CONNECTION_NAME: required; the embedded PGlite/],
    ['SESSION_STORE', { SESSION_STORE: 'postgres' }, /SESSION_STORE: must be firestore/],
    ['EVENT_SINK', { EVENT_SINK: 'postgres' }, /EVENT_SINK: must be bigquery/],
    ['KEY_ENCRYPTOR', { KEY_ENCRYPTOR: 'local' }, /KEY_ENCRYPTOR: must be kms/],
    ['KMS_KEY_NAME', { KMS_KEY_NAME: undefined }, /KMS_KEY_NAME: required/],
    ['JOBS_AUDIENCE', { JOBS_AUDIENCE: undefined }, /JOBS_AUDIENCE: required/],
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
