import { openSigner, type Signer } from '../shared/audit/signer/index.js';
import { openEventSink } from '../shared/events/index.js';
import type { EventSink } from '../shared/events/port.js';
import { rootLogger, type KernelServices } from '../shared/http/index.js';
import type { ObjectStore } from '../shared/storage/index.js';
import type { Notifier } from '../shared/notify/index.js';
import { alertNotifier } from '../providers/service/maintenance.js';
import { httpProbe, type ProviderProbe } from './service/health.js';
import { schedulerVerifier } from './service/oidc.js';

/** Everything the jobs function's routes use, built once per instance on top of the kernel's. */
export interface JobsServices extends KernelServices {
  /** The EventSink, opened on first use (BigQuery client loads lazily). */
  sink(): Promise<EventSink>;
  /** Signs audit seal heads. */
  signer(): Signer;
  /** Where artifact bytes live (the cleanup job deletes expired ones); the Storage client loads on first use. */
  objects(): Promise<ObjectStore>;
  probe: ProviderProbe;
  /** Where fired cost alerts go (the providers function's adapters). */
  notifier: Notifier;
  /** Verifies the scheduler's OIDC token; throws a 401 problem otherwise. */
  verifyScheduler(token: string | undefined): Promise<{ email: string }>;
}

export type JobsOverrides = Partial<Pick<JobsServices, 'probe' | 'verifyScheduler' | 'notifier'>> & { sink?: EventSink; signer?: Signer; objects?: ObjectStore };

export async function buildJobsServices(kernel: KernelServices, overrides: JobsOverrides = {}): Promise<JobsServices> {
  let sink: Promise<EventSink> | undefined = overrides.sink ? Promise.resolve(overrides.sink) : undefined;
  let signer = overrides.signer;
  let objects: Promise<ObjectStore> | undefined = overrides.objects ? Promise.resolve(overrides.objects) : undefined;
  return {
    ...kernel,
    sink: () => (sink ??= openEventSink(kernel.config, kernel.database)),
    signer: () => (signer ??= openSigner(kernel.config)),
    objects: () =>
      (objects ??= import('../shared/storage/index.js').then((m) => m.openObjectStore(kernel.config)).catch((err) => {
        objects = undefined;
        throw err;
      })),
    probe: overrides.probe ?? httpProbe(),
    notifier:
      overrides.notifier ?? alertNotifier(kernel.config, rootLogger.child({ function: 'jobs' })),
    verifyScheduler: overrides.verifyScheduler ?? schedulerVerifier(kernel.config),
  };
}
