import type { Config } from '../config.js';
import type { ObjectStore } from './port.js';

export type { DownloadGrant, ObjectInfo, ObjectStore, UploadGrant } from './port.js';
export { DOWNLOAD_URL_TTL_SECONDS, objectName, UPLOAD_URL_TTL_SECONDS } from './port.js';

/**
 * ARTIFACT_STORE=gcs → the ARTIFACT_BUCKET bucket (the Storage client loads on first use);
 * filesystem → files under ARTIFACT_DIR served by the dev server (refused in production by config).
 */
export async function openObjectStore(cfg: Config): Promise<ObjectStore> {
  if (cfg.ARTIFACT_STORE === 'gcs') {
    if (!cfg.ARTIFACT_BUCKET) throw new Error('ARTIFACT_BUCKET: required with ARTIFACT_STORE=gcs');
    const { gcsObjectStore } = await import('./gcs.js');
    return gcsObjectStore({ bucket: cfg.ARTIFACT_BUCKET });
  }
  const { filesystemObjectStore } = await import('./filesystem.js');
  return filesystemObjectStore({ root: cfg.ARTIFACT_DIR, baseUrl: cfg.ARTIFACT_BASE_URL });
}
