import type { KernelServices } from '../shared/http/index.js';
import type { ObjectStore } from '../shared/storage/index.js';
import type { ArtifactLimits } from './service/artifacts.js';

/** Everything the projects function's routes use, built once per instance on top of the kernel's. */
export interface ProjectsServices extends KernelServices {
  /** Where artifact bytes live; opened on first use (the Cloud Storage client loads lazily). */
  objects(): Promise<ObjectStore>;
  artifactLimits: ArtifactLimits;
}

export type ProjectsOverrides = { objects?: ObjectStore };

export async function buildProjectsServices(kernel: KernelServices, overrides: ProjectsOverrides = {}): Promise<ProjectsServices> {
  let objects: Promise<ObjectStore> | undefined = overrides.objects ? Promise.resolve(overrides.objects) : undefined;
  return {
    ...kernel,
    objects: () =>
      (objects ??= import('../shared/storage/index.js').then((m) => m.openObjectStore(kernel.config)).catch((err) => {
        objects = undefined;
        throw err;
      })),
    artifactLimits: { maxBytes: kernel.config.ARTIFACT_MAX_BYTES, orgQuotaBytes: kernel.config.ARTIFACT_ORG_QUOTA_BYTES },
  };
}
