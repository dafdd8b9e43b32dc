/**
 * ObjectStore: where artifact bytes live. The function never carries them: it hands out short-lived
 * URLs (a V4 signed Cloud Storage URL in production, an HMAC-signed dev-server URL for the embedded
 * store), then reads the object back as a stream to verify it. Object names come only from
 * `objectName()` (validated ids), never from user input.
 */
export interface UploadGrant {
  url: string;
  method: 'PUT';
  /** Headers the upload must carry exactly as given: they are bound into the signature. */
  headers: Record<string, string>;
  expiresAt: Date;
}

export interface DownloadGrant {
  url: string;
  expiresAt: Date;
}

export interface ObjectInfo {
  size: number;
  contentType: string | undefined;
  /** Changes on every write of the name; a read pinned to it cannot see a later overwrite. */
  generation: string;
}

export interface ObjectStore {
  readonly kind: 'gcs' | 'filesystem';
  /** Where the object lives, for the artifact's `uri` (gs://bucket/name or file:///…). */
  uriOf(name: string): string;
  /**
   * A URL that accepts one PUT of exactly `size` bytes of `contentType` until `ttlSeconds` from now,
   * and only while no object of that name exists (an upload never replaces verified content).
   */
  signUpload(name: string, options: { contentType: string; size: number; ttlSeconds: number }): Promise<UploadGrant>;
  /** A URL that GETs the object until `ttlSeconds` from now, served as an attachment named `filename`. */
  signDownload(name: string, options: { ttlSeconds: number; contentType: string; filename: string }): Promise<DownloadGrant>;
  /** Size, type and generation, or undefined when there is no such object. */
  stat(name: string): Promise<ObjectInfo | undefined>;
  /** The object's bytes as a stream (pinned to `generation` when given); never loaded whole. */
  read(name: string, generation?: string): AsyncIterable<Uint8Array>;
  /** Deletes the object; a missing one is not an error (idempotent). Resolves true when one was deleted. */
  delete(name: string): Promise<boolean>;
}

/** Signed URLs live minutes, not days: V4 allows up to 7 days, but a leaked URL should die quickly. */
export const UPLOAD_URL_TTL_SECONDS = 15 * 60;
export const DOWNLOAD_URL_TTL_SECONDS = 5 * 60;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The one place object names are made: `orgs/<org uuid>/artifacts/<artifact uuid>`. Both parts are
 * checked here again, so a caller that forgot to validate cannot build a path out of user input.
 */
export function objectName(orgId: string, artifactId: string): string {
  if (!UUID.test(orgId) || !UUID.test(artifactId)) throw new Error('object names are built from validated uuids only');
  return `orgs/${orgId}/artifacts/${artifactId}`;
}

export const OBJECT_NAME = /^orgs\/[0-9a-f-]{36}\/artifacts\/[0-9a-f-]{36}$/;

/** RFC 6266 / RFC 8187 attachment disposition: an ASCII fallback and the exact UTF-8 name. */
export function attachment(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_').slice(0, 200) || 'artifact';
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}
