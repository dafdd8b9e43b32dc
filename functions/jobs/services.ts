import type { KernelServices } from '../shared/http/index.js';

/** Everything the jobs function's routes use, built once per instance on top of the kernel's. */
export type JobsServices = KernelServices;

export async function buildJobsServices(kernel: KernelServices): Promise<JobsServices> {
  return kernel;
}
