import type { KernelServices } from '../shared/http/index.js';

/** Everything the providers function's routes use, built once per instance on top of the kernel's. */
export type ProvidersServices = KernelServices;

export async function buildProvidersServices(kernel: KernelServices): Promise<ProvidersServices> {
  return kernel;
}
