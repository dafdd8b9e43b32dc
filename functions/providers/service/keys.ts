import { randomUUID } from 'node:crypto';
import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { providers, userProviders } from '../../../drizzle/schema/providers.js';
import type { KeyEncryptor } from '../../shared/crypto/index.js';
import { withTenant, type Database } from '../../shared/db/index.js';
import { decodeCursor, page, problems } from '../../shared/http/index.js';
import { providerProblems } from './errors.js';
import type { Principal } from '../../shared/security/tokens.js';
import { adapterFor, type ProviderKind } from '../adapters/index.js';
import { byokAad, forgetRoutes } from './resolve.js';
import type { UrlGuard } from './ssrf.js';

/**
 * BYOK keys. The plaintext exists only inside encrypt/verify calls (as a Buffer zeroed after use);
 * the row holds the envelope, and only the last four characters (fingerprint) ever leave the service.
 */
export interface KeyDeps {
  database: Database;
  keyEncryptor: KeyEncryptor;
  production: boolean;
  /** The SSRF rule, and the pinned fetch a user-supplied base URL is called through. */
  urlGuard: UrlGuard;
  verifyTimeoutMs: number;
}

type Row = typeof userProviders.$inferSelect;

export function keyView(r: Row) {
  return {
    id: r.id, provider: r.provider, name: r.name, fingerprint: r.fingerprint, status: r.status, base_url: r.baseUrl,
    catalog_provider_id: r.catalogProviderId, key_version: r.keyVersion, default_max_output_tokens: r.defaultMaxOutputTokens, drop_params: r.dropParams,
    last_verified_at: r.lastVerifiedAt ? r.lastVerifiedAt.toISOString() : null, created_at: r.createdAt.toISOString(), version: r.version,
  };
}

const live = (p: Principal, id: string) => and(eq(userProviders.id, id), eq(userProviders.userId, p.userId), isNull(userProviders.deletedAt));

async function load(deps: KeyDeps, p: Principal, id: string): Promise<Row> {
  const [row] = await withTenant(deps.database, p, (tx) => tx.select().from(userProviders).where(live(p, id)));
  if (!row) throw problems.notFound('key');
  return row;
}

async function seal(deps: KeyDeps, userId: string, provider: string, id: string, apiKey: string) {
  const plain = Buffer.from(apiKey, 'utf8');
  try {
    const envelope = await deps.keyEncryptor.encrypt(plain, byokAad(userId, provider, id));
    return { envelope, keyVersion: deps.keyEncryptor.keyVersionOf(envelope) };
  } finally {
    plain.fill(0);
  }
}

export async function createKey(deps: KeyDeps, p: Principal, input: { provider: ProviderKind; name: string; api_key: string; base_url?: string | null; default_max_output_tokens?: number | null; drop_params?: boolean | null }) {
  if (input.provider === 'openai_compatible' && !input.base_url) {
    throw providerProblems.baseUrlRequired();
  }
  const baseUrl = input.base_url ? (await deps.urlGuard.check(input.base_url)).toString().replace(/\/+$/, '') : null;
  const id = randomUUID();
  const { envelope, keyVersion } = await seal(deps, p.userId, input.provider, id, input.api_key);
  try {
    const [row] = await withTenant(deps.database, p, async (tx) => {
      const [catalog] = await tx.select({ id: providers.id }).from(providers).where(eq(providers.id, input.provider));
      return tx.insert(userProviders).values({
        id, orgId: p.orgId, userId: p.userId, provider: input.provider, catalogProviderId: catalog?.id ?? null, name: input.name,
        encryptedKey: envelope, keyVersion, fingerprint: input.api_key.slice(-4), baseUrl, defaultMaxOutputTokens: input.default_max_output_tokens ?? null, dropParams: input.drop_params ?? false,
        createdBy: p.userId, updatedBy: p.userId,
      }).returning();
    });
    forgetRoutes(p.userId);
    return keyView(row!);
  } catch (err) {
    if ((err as { code?: string; cause?: { code?: string } }).code === '23505' || (err as { cause?: { code?: string } }).cause?.code === '23505') {
      throw problems.conflict(`you already have a key named "${input.name}"`, 'key-name-taken');
    }
    throw err;
  }
}

export async function listKeys(deps: KeyDeps, p: Principal, limit: number, cursor?: string) {
  const after = decodeCursor(cursor, ['timestamp', 'uuid']);
  const rows = await withTenant(deps.database, p, (tx) =>
    tx.select().from(userProviders)
      .where(and(eq(userProviders.userId, p.userId), isNull(userProviders.deletedAt),
        after ? or(lt(userProviders.createdAt, new Date(after[0])), and(eq(userProviders.createdAt, new Date(after[0])), lt(userProviders.id, after[1]))) : undefined))
      .orderBy(desc(userProviders.createdAt), desc(userProviders.id))
      .limit(limit + 1),
  );
  const result = page(rows, limit, (r) => [r.createdAt.toISOString(), r.id]);
  return { items: result.items.map(keyView), next_cursor: result.next_cursor };
}

export const getKey = async (deps: KeyDeps, p: Principal, id: string) => keyView(await load(deps, p, id));

/** A cheap authenticated upstream call (list models): 2xx → active, 401/403 → invalid, else 502. */
export async function verifyKey(deps: KeyDeps, p: Principal, id: string) {
  const row = await load(deps, p, id);
  const baseUrl = row.baseUrl ?? (await catalogBaseUrl(deps, p, row.catalogProviderId));
  if (row.baseUrl) await deps.urlGuard.check(row.baseUrl);
  const plain = await deps.keyEncryptor.decrypt(row.encryptedKey, byokAad(p.userId, row.provider, row.id));
  let status: number;
  try {
    const req = adapterFor(row.provider as ProviderKind).verify(baseUrl, plain.toString('utf8'));
    const res = await (row.baseUrl ? deps.urlGuard.fetch : fetch)(req.url, { method: req.method, headers: req.headers, redirect: 'manual', signal: AbortSignal.timeout(deps.verifyTimeoutMs) });
    status = res.status;
    await res.body?.cancel().catch(() => {});
  } catch {
    throw providerProblems.verifyUnreachable(row.provider);
  } finally {
    plain.fill(0);
  }
  const valid = status >= 200 && status < 300;
  // Gemini answers 400 INVALID_ARGUMENT ("API key not valid") where the others answer 401.
  const invalid = status === 401 || status === 403 || (row.provider === 'gemini' && status === 400);
  if (!valid && !invalid) throw providerProblems.verifyFailed(row.provider, status);
  const [updated] = await withTenant(deps.database, p, (tx) =>
    tx.update(userProviders).set({ status: valid ? 'active' : 'invalid', lastVerifiedAt: sql`now()`, updatedBy: p.userId }).where(live(p, id)).returning(),
  );
  forgetRoutes(p.userId);
  return { ...keyView(updated!), verified: valid };
}

async function catalogBaseUrl(deps: KeyDeps, p: Principal, catalogId: string | null): Promise<string> {
  if (!catalogId) throw providerProblems.keyWithoutBaseUrl();
  const [row] = await withTenant(deps.database, p, (tx) => tx.select({ baseUrl: providers.baseUrl }).from(providers).where(eq(providers.id, catalogId)));
  if (!row?.baseUrl) throw providerProblems.keyWithoutBaseUrl();
  return row.baseUrl;
}

/**
 * Rotation without downtime: re-wraps the data key under the current KMS key version (the sealed secret
 * is untouched, so calls in flight keep working), or replaces the secret when `api_key` is given.
 */
export async function rotateKey(deps: KeyDeps, p: Principal, id: string, input: { api_key?: string }, expected?: number) {
  const row = await load(deps, p, id);
  if (expected !== undefined && expected !== row.version) throw problems.preconditionFailed();
  const aad = byokAad(p.userId, row.provider, row.id);
  const next = input.api_key
    ? await seal(deps, p.userId, row.provider, row.id, input.api_key)
    : await deps.keyEncryptor.rewrap(row.encryptedKey, aad).then((envelope) => ({ envelope, keyVersion: deps.keyEncryptor.keyVersionOf(envelope) }));
  const [updated] = await withTenant(deps.database, p, (tx) =>
    tx.update(userProviders)
      .set({
        encryptedKey: next.envelope, keyVersion: next.keyVersion, version: sql`${userProviders.version} + 1`, updatedBy: p.userId,
        ...(input.api_key ? { fingerprint: input.api_key.slice(-4), status: 'active' } : {}),
      })
      .where(and(live(p, id), eq(userProviders.version, row.version)))
      .returning(),
  );
  if (!updated) throw problems.preconditionFailed();
  forgetRoutes(p.userId);
  return keyView(updated);
}

/** Soft delete that also shreds the ciphertext: a deleted key cannot be recovered from backups of the row. */
export async function deleteKey(deps: KeyDeps, p: Principal, id: string, expected: number): Promise<void> {
  const rows = await withTenant(deps.database, p, (tx) =>
    tx.update(userProviders)
      .set({ deletedAt: sql`now()`, status: 'revoked', encryptedKey: 'shredded', version: sql`${userProviders.version} + 1`, updatedBy: p.userId })
      .where(and(live(p, id), eq(userProviders.version, expected)))
      .returning({ id: userProviders.id }),
  );
  if (rows.length) return forgetRoutes(p.userId);
  await load(deps, p, id); // 404 when not the caller's
  throw problems.preconditionFailed();
}
