import { createHash, randomUUID } from 'node:crypto';
import { and, eq, gt, isNull, or, sql } from 'drizzle-orm';
import { artifacts } from '../../../drizzle/schema/production.js';
import type { Tx } from '../../shared/db/index.js';
import { problems } from '../../shared/http/index.js';
import type { Tenant } from '../../shared/http/index.js';
import { DOWNLOAD_URL_TTL_SECONDS, objectName, UPLOAD_URL_TTL_SECONDS, type ObjectStore } from '../../shared/storage/index.js';
import { projectsErrors } from '../errors.js';
import { requireSession } from './analysis.js';

export type ArtifactRow = typeof artifacts.$inferSelect;

/**
 * Artifacts live at most this long, and default to it; the bucket's lifecycle rule deletes objects one
 * day after it (terraform: artifact_max_age_days), a backstop for the cleanup job.
 */
export const ARTIFACT_MAX_TTL_DAYS = 30;
const DAY_MS = 86_400_000;

export interface ArtifactLimits {
  /** ARTIFACT_MAX_BYTES: one artifact's size. */
  maxBytes: number;
  /** ARTIFACT_ORG_QUOTA_BYTES: all live artifacts of one organization. */
  orgQuotaBytes: number;
}

export interface RegisterInput {
  name: string;
  sha256: string;
  size_bytes: number;
  content_type?: string | undefined;
  expires_at?: string | undefined;
}

/** Live: not past its expiry (expired rows wait for the cleanup job and are invisible meanwhile). */
const live = () => or(isNull(artifacts.expiresAt), gt(artifacts.expiresAt, sql`now()`));

/** The caller's artifact in this session, or 404 (another organization's, another session's, expired). */
export async function requireArtifact(tx: Tx, t: Tenant, input: { sessionId: string; artifactId: string; lock?: boolean }): Promise<ArtifactRow> {
  const { sessionId, artifactId, lock } = input;
  await requireSession(tx, t, { sessionId });
  const q = tx.select().from(artifacts).where(and(eq(artifacts.orgId, t.orgId), eq(artifacts.sessionId, sessionId), eq(artifacts.id, artifactId), live()));
  const [row] = lock ? await q.for('update') : await q;
  if (!row) throw problems.notFound('artifact');
  return row;
}

/**
 * Registers an artifact (pending) under the size limit and the organization's quota. The quota check
 * and the insert run under a per-organization transaction lock, so parallel registrations cannot
 * overshoot it together. Pending uploads count: their bytes are promised.
 */
export async function registerArtifact(tx: Tx, t: Tenant, input: RegisterInput & { sessionId: string; store: ObjectStore; limits: ArtifactLimits }): Promise<ArtifactRow> {
  const { sessionId, store, limits } = input;
  await requireSession(tx, t, { sessionId });
  if (input.size_bytes > limits.maxBytes) {
    throw projectsErrors.artifactTooLarge(`an artifact may hold at most ${limits.maxBytes} bytes (ARTIFACT_MAX_BYTES); this one declares ${input.size_bytes}`, { limit_bytes: limits.maxBytes });
  }
  const now = Date.now();
  const expiresAt = input.expires_at ? new Date(input.expires_at) : new Date(now + ARTIFACT_MAX_TTL_DAYS * DAY_MS);
  if (expiresAt.getTime() <= now || expiresAt.getTime() > now + ARTIFACT_MAX_TTL_DAYS * DAY_MS) {
    throw projectsErrors.invalidField(`expires_at must be in the future and at most ${ARTIFACT_MAX_TTL_DAYS} days away`, { errors: [{ path: 'expires_at', message: `within ${ARTIFACT_MAX_TTL_DAYS} days from now` }] });
  }
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`artifact-quota:${t.orgId}`}, 0))`);
  const [usage] = await tx
    .select({ used: sql<string>`coalesce(sum(${artifacts.sizeBytes}), 0)`, next: sql<Date | null>`min(${artifacts.expiresAt})` })
    .from(artifacts)
    .where(and(eq(artifacts.orgId, t.orgId), live()));
  const used = Number(usage?.used ?? 0);
  if (used + input.size_bytes > limits.orgQuotaBytes) {
    const next = usage?.next ? new Date(usage.next).getTime() : undefined;
    const retry = next ? Math.max(1, Math.ceil((next - now) / 1000)) : undefined;
    throw projectsErrors.storageQuota(`the organization's artifact storage quota is ${limits.orgQuotaBytes} bytes (ARTIFACT_ORG_QUOTA_BYTES); ${used} are in use and this artifact needs ${input.size_bytes}`,
      { limit_bytes: limits.orgQuotaBytes, used_bytes: used, ...(retry ? { headers: { 'Retry-After': String(retry) } } : {}) },
    );
  }
  const id = randomUUID();
  const [row] = await tx
    .insert(artifacts)
    .values({
      id,
      orgId: t.orgId,
      sessionId,
      name: input.name,
      uri: store.uriOf(objectName(t.orgId, id)),
      sha256: input.sha256.toLowerCase(),
      sizeBytes: input.size_bytes,
      contentType: input.content_type ?? 'application/octet-stream',
      expiresAt,
      createdBy: t.userId,
      updatedBy: t.userId,
    })
    .returning();
  return row!;
}

export async function listArtifacts(tx: Tx, t: Tenant, sessionId: string) {
  await requireSession(tx, t, { sessionId });
  return tx.select().from(artifacts).where(and(eq(artifacts.orgId, t.orgId), eq(artifacts.sessionId, sessionId), live())).orderBy(artifacts.createdAt, artifacts.id);
}

/** The signed PUT for a pending artifact: bound to its size and content type, never past its expiry. */
export async function uploadGrant(store: ObjectStore, row: ArtifactRow) {
  if (row.status !== 'pending') throw projectsErrors.illegalTransition('the artifact is already available; its content cannot change');
  const untilExpiry = row.expiresAt ? Math.floor((row.expiresAt.getTime() - Date.now()) / 1000) : UPLOAD_URL_TTL_SECONDS;
  return store.signUpload(objectName(row.orgId, row.id), { contentType: row.contentType ?? 'application/octet-stream', size: row.sizeBytes, ttlSeconds: Math.max(1, Math.min(UPLOAD_URL_TTL_SECONDS, untilExpiry)) });
}

export async function downloadGrant(store: ObjectStore, row: ArtifactRow) {
  if (row.status !== 'available') throw projectsErrors.notAvailable('the artifact has no verified content yet: upload it, then call …/complete');
  return store.signDownload(objectName(row.orgId, row.id), { ttlSeconds: DOWNLOAD_URL_TTL_SECONDS, contentType: row.contentType ?? 'application/octet-stream', filename: row.name });
}

/** SHA-256 and length of a stream, chunk by chunk; stops reading once it holds more than `limit` bytes. */
async function digest(stream: AsyncIterable<Uint8Array>, limit: number): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.byteLength;
    if (size > limit) break;
    hash.update(chunk);
  }
  return { sha256: hash.digest('hex'), size };
}

/**
 * Verifies the uploaded object against what was registered, outside any transaction (the bytes are
 * read from the store): the object is streamed (pinned to the generation just measured) and hashed on
 * the way, never held whole. A mismatch deletes the object and answers 422, so a wrong upload can be
 * retried with a new link. The route marks the artifact available only after this passed.
 */
export async function verifyUpload(store: ObjectStore, row: ArtifactRow): Promise<void> {
  const name = objectName(row.orgId, row.id);
  const expected = { sha256: row.sha256, size_bytes: row.sizeBytes };
  const found = await store.stat(name);
  if (!found) throw projectsErrors.uploadMissing('nothing has been uploaded for this artifact yet (PUT the content to its upload URL first)');
  const actual = found.size === row.sizeBytes ? await digest(store.read(name, found.generation), row.sizeBytes) : { sha256: null, size: found.size };
  if (actual.size !== row.sizeBytes || actual.sha256 !== row.sha256) {
    await store.delete(name);
    throw projectsErrors.checksumMismatch('the uploaded content does not match the registered SHA-256 and size; it was deleted, upload it again', {
      expected,
      actual: { sha256: actual.sha256, size_bytes: actual.size },
    });
  }
}

/** The verified artifact becomes available (under its row lock, still live and the caller's). */
export async function markAvailable(tx: Tx, t: Tenant, input: { sessionId: string; artifactId: string }): Promise<ArtifactRow> {
  const { sessionId, artifactId } = input;
  await requireArtifact(tx, t, { sessionId, artifactId, lock: true });
  const [updated] = await tx
    .update(artifacts)
    .set({ status: 'available', verifiedAt: new Date(), updatedBy: t.userId })
    .where(and(eq(artifacts.id, artifactId), eq(artifacts.orgId, t.orgId)))
    .returning();
  return updated!;
}
