import type { KernelServices } from '../shared/http/index.js';

/** Everything the projects function's routes use, built once per instance on top of the kernel's. */
export type ProjectsServices = KernelServices;

export async function buildProjectsServices(kernel: KernelServices): Promise<ProjectsServices> {
  return kernel;
}
