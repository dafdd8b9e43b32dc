import { randomUUID } from 'node:crypto';
import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { providers, userProviders } from '../../../drizzle/schema/providers.js';
import type { KeyEncryptor } from '../../shared/crypto/index.js';
import type { Tx } from '../../shared/db/index.js';
import { decodeCursor, page, problems, type Tenant } from '../../shared/http/index.js';
import { providerProblems } from './errors.js';
import { adapterFor, type ProviderKind } from '../adapters/index.js';
import { byokAad } from './resolve.js';
import type { UrlGuard } from './ssrf.js';

/**
 * BYOK keys. The plaintext exists only inside encrypt/verify calls (as a Buffer zeroed after use);
 * the row holds the envelope, and only the last four characters (fingerprint) ever leave the service.
 * KMS and the provider are called outside the route's transaction (sealKey, probeKey, resealKey
 * take no `tx`), so no pooled connection waits on the network; the route calls forgetRoutes after
 * a change commits.
 */
export interface KeyDeps {
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

const live = (t: Tenant, id: string) => and(eq(userProviders.id, id), eq(userProviders.userId, t.userId), isNull(userProviders.deletedAt));

/** The caller's live key, else 404 (another user's key is not there). */
export async function loadKey(tx: Tx, t: Tenant, id: string): Promise<Row> {
  const [row] = await tx.select().from(userProviders).where(live(t, id));
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

export interface NewKeyInput {
  provider: ProviderKind;
  name: string;
  api_key: string;
  base_url?: string | null;
  default_max_output_tokens?: number | null;
  drop_params?: boolean | null;
}

/** A new key ready to insert: its base URL checked (DNS) and its secret sealed (KMS), before any transaction. */
export interface SealedKey {
  id: string;
  input: NewKeyInput;
  baseUrl: string | null;
  envelope: string;
  keyVersion: string | null;
}

export async function sealKey(deps: KeyDeps, t: Tenant, input: NewKeyInput): Promise<SealedKey> {
  if (input.provider === 'openai_compatible' && !input.base_url) {
    throw providerProblems.baseUrlRequired();
  }
  const baseUrl = input.base_url ? (await deps.urlGuard.check(input.base_url)).toString().replace(/\/+$/, '') : null;
  const id = randomUUID();
  const { envelope, keyVersion } = await seal(deps, t.userId, input.provider, id, input.api_key);
  return { id, input, baseUrl, envelope, keyVersion };
}

/** The route maps the name's unique key to 409 key-name-taken (keyNameTaken below). */
export async function createKey(tx: Tx, t: Tenant, sealed: SealedKey) {
  const { id, input, baseUrl, envelope, keyVersion } = sealed;
  const [catalog] = await tx.select({ id: providers.id }).from(providers).where(eq(providers.id, input.provider));
  const [row] = await tx.insert(userProviders).values({
    id, orgId: t.orgId, userId: t.userId, provider: input.provider, catalogProviderId: catalog?.id ?? null, name: input.name,
    encryptedKey: envelope, keyVersion, fingerprint: input.api_key.slice(-4), baseUrl, defaultMaxOutputTokens: input.default_max_output_tokens ?? null, dropParams: input.drop_params ?? false,
    createdBy: t.userId, updatedBy: t.userId,
  }).returning();
  return keyView(row!);
}

/** inTenant's `unique` option of createKey: a second key of the caller with the same name. */
export const keyNameTaken = (name: string) => ({ user_providers_user_id_name_uq: () => providerProblems.keyNameTaken(name) });

export async function listKeys(tx: Tx, t: Tenant, query: { limit: number; cursor?: string }) {
  const after = decodeCursor(query.cursor, ['timestamp', 'uuid']);
  const rows = await tx.select().from(userProviders)
    .where(and(eq(userProviders.userId, t.userId), isNull(userProviders.deletedAt),
      after ? or(lt(userProviders.createdAt, new Date(after[0])), and(eq(userProviders.createdAt, new Date(after[0])), lt(userProviders.id, after[1]))) : undefined))
    .orderBy(desc(userProviders.createdAt), desc(userProviders.id))
    .limit(query.limit + 1);
  const result = page(rows, query.limit, (r) => [r.createdAt.toISOString(), r.id]);
  return { items: result.items.map(keyView), next_cursor: result.next_cursor };
}

export const getKey = async (tx: Tx, t: Tenant, id: string) => keyView(await loadKey(tx, t, id));

/** What verifying a key needs from the database: the row and the base URL to call. */
export interface KeyToVerify {
  row: Row;
  baseUrl: string;
}

export async function keyToVerify(tx: Tx, t: Tenant, id: string): Promise<KeyToVerify> {
  const row = await loadKey(tx, t, id);
  return { row, baseUrl: row.baseUrl ?? (await catalogBaseUrl(tx, row.catalogProviderId)) };
}

/** A cheap authenticated upstream call (list models), outside any transaction: 2xx → valid, 401/403 → invalid, else 502. */
export async function probeKey(deps: KeyDeps, t: Tenant, { row, baseUrl }: KeyToVerify): Promise<boolean> {
  if (row.baseUrl) await deps.urlGuard.check(row.baseUrl);
  const plain = await deps.keyEncryptor.decrypt(row.encryptedKey, byokAad(t.userId, row.provider, row.id));
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
  return valid;
}

/** Records probeKey's answer (active or invalid). */
export async function recordVerification(tx: Tx, t: Tenant, input: { id: string; valid: boolean }) {
  const [updated] = await tx.update(userProviders)
    .set({ status: input.valid ? 'active' : 'invalid', lastVerifiedAt: sql`now()`, updatedBy: t.userId })
    .where(live(t, input.id))
    .returning();
  if (!updated) throw problems.notFound('key'); // deleted while it was being verified
  return { ...keyView(updated), verified: input.valid };
}

async function catalogBaseUrl(tx: Tx, catalogId: string | null): Promise<string> {
  if (!catalogId) throw providerProblems.keyWithoutBaseUrl();
  const [row] = await tx.select({ baseUrl: providers.baseUrl }).from(providers).where(eq(providers.id, catalogId));
  if (!row?.baseUrl) throw providerProblems.keyWithoutBaseUrl();
  return row.baseUrl;
}

/**
 * Rotation without downtime: re-wraps the data key under the current KMS key version (the sealed secret
 * is untouched, so calls in flight keep working), or replaces the secret when `api_key` is given.
 * resealKey is the KMS part (outside any transaction), rotateKey stores it if the row did not change.
 */
export async function resealKey(deps: KeyDeps, t: Tenant, row: Row, input: { api_key?: string }) {
  return input.api_key
    ? seal(deps, t.userId, row.provider, row.id, input.api_key)
    : deps.keyEncryptor.rewrap(row.encryptedKey, byokAad(t.userId, row.provider, row.id)).then((envelope) => ({ envelope, keyVersion: deps.keyEncryptor.keyVersionOf(envelope) }));
}

export async function rotateKey(tx: Tx, t: Tenant, input: { row: Row; sealed: { envelope: string; keyVersion: string | null }; api_key?: string }) {
  const { row, sealed, api_key } = input;
  const [updated] = await tx.update(userProviders)
    .set({
      encryptedKey: sealed.envelope, keyVersion: sealed.keyVersion, version: sql`${userProviders.version} + 1`, updatedBy: t.userId,
      ...(api_key ? { fingerprint: api_key.slice(-4), status: 'active' } : {}),
    })
    .where(and(live(t, row.id), eq(userProviders.version, row.version)))
    .returning();
  if (!updated) throw problems.preconditionFailed();
  return keyView(updated);
}

/** Soft delete that also shreds the ciphertext: a deleted key cannot be recovered from backups of the row. */
export async function deleteKey(tx: Tx, t: Tenant, input: { id: string; expected: number }): Promise<void> {
  const rows = await tx.update(userProviders)
    .set({ deletedAt: sql`now()`, status: 'revoked', encryptedKey: 'shredded', version: sql`${userProviders.version} + 1`, updatedBy: t.userId })
    .where(and(live(t, input.id), eq(userProviders.version, input.expected)))
    .returning({ id: userProviders.id });
  if (rows.length) return;
  await loadKey(tx, t, input.id); // 404 when not the caller's
  throw problems.preconditionFailed();
}
