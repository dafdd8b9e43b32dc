import type { KernelServices } from '../shared/http/index.js';

/** Everything the auth function's routes use, built once per instance on top of the kernel's. */
export type AuthServices = KernelServices;

export async function buildAuthServices(kernel: KernelServices): Promise<AuthServices> {
  return kernel;
}
