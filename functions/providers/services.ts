import { alertWebhookSecret } from '../shared/config.js';
import { openKeyEncryptor, type KeyEncryptor } from '../shared/crypto/index.js';
import type { KernelServices } from '../shared/http/index.js';
import { rootLogger } from '../shared/http/index.js';
import { ReserveBatcher, type ReserveBatcherOptions } from './service/reserve-batcher.js';
import { SettleBatcher, type SettleBatcherOptions } from './service/settle-batcher.js';
import { channelNotifier, logNotifier, webhookNotifier, type Notifier } from '../shared/notify/index.js';
import { createUrlGuard, type Resolver, type UrlGuard } from './service/ssrf.js';
import { LeaseRenewalError, QuotaLeases, type QuotaLeasesOptions } from './service/leases/index.js';
import { reservationTtlSeconds } from './service/gateway.js';
import type { RetryPolicy } from './service/upstream.js';

/**
 * Everything the providers function's routes use, built once per instance on top of the kernel's.
 * Platform keys (the platform's own upstream accounts) come from PROVIDER_KEY_<ID> variables, e.g.
 * PROVIDER_KEY_OPENAI, read by config.ts (PROVIDER_KEYS) and injected from Secret Manager in production;
 * a catalog provider without one is usable only with the caller's own key.
 */
export interface ProvidersServices extends KernelServices {
  keyEncryptor: KeyEncryptor;
  notifier: Notifier;
  platformKeys: Record<string, string>;
  retry: RetryPolicy;
  /** The SSRF rule for user-supplied URLs and the pinned fetch that calls them. */
  urlGuard: UrlGuard;
  /** The gateway's reservations, judged in batches while one is in flight (group commit, no timer). */
  reserves: ReserveBatcher;
  /** The gateway's settles, written in batches (group commit); flushed by close() on SIGTERM. */
  settles: SettleBatcher;
  /** This instance's quota leases (GATEWAY_QUOTA_LEASES=on): given back at shutdown (close). */
  quotaLeases?: QuotaLeases;
  /** Background work (settles and their follow-ups); `idle()` resolves when all of it finished. */
  track(work: Promise<unknown>): void;
  idle(): Promise<void>;
}

export interface ProvidersOptions {
  keyEncryptor?: KeyEncryptor;
  notifier?: Notifier;
  platformKeys?: Record<string, string>;
  retry?: Partial<RetryPolicy>;
  /** Backoff of the settle batch retries (default: settle-batcher.ts SETTLE_RETRY_DELAYS_MS). */
  settleRetryDelaysMs?: number[];
  /** Batch size and wait of the settle batches (defaults in settle-batcher.ts). */
  settleBatch?: Pick<SettleBatcherOptions, 'maxBatch' | 'maxWaitMs' | 'maxConcurrent' | 'maxPending' | 'busy'>;
  /** Size and concurrency of the reservation batches (defaults in reserve-batcher.ts). */
  reserveBatch?: Pick<ReserveBatcherOptions, 'maxBatch' | 'maxConcurrent'>;
  /** DNS for the SSRF guard (tests: a fake that changes its answers); default the system resolver. */
  resolve?: Resolver;
  /** Quota lease options (clock, policy); leases are on when GATEWAY_QUOTA_LEASES=on or this is given. */
  quotaLeases?: QuotaLeasesOptions;
}

export async function buildProvidersServices(kernel: KernelServices, options: ProvidersOptions = {}): Promise<ProvidersServices> {
  const production = kernel.config.NODE_ENV === 'production';
  const webhookSecret = alertWebhookSecret(kernel.config);
  const pending = new Set<Promise<unknown>>();
  const urlGuard = createUrlGuard({ production, resolve: options.resolve });
  const settles = new SettleBatcher({
    database: kernel.database, log: rootLogger.child({ function: 'providers' }), retryDelaysMs: options.settleRetryDelaysMs, ...options.settleBatch,
  });
  const retry: RetryPolicy = { timeoutMs: kernel.config.GATEWAY_UPSTREAM_TIMEOUT_MS, maxRetries: 2, baseDelayMs: 250, maxDelayMs: 4_000, ...options.retry };
  const track = (work: Promise<unknown>) => {
    pending.add(work);
    void work.finally(() => pending.delete(work));
  };
  const quotaLeases = kernel.config.GATEWAY_QUOTA_LEASES === 'on' || options.quotaLeases
    ? new QuotaLeases(kernel.database, {
        revision: kernel.config.K_REVISION,
        track: (w) => track(w.catch((err) => rootLogger.warn(err instanceof LeaseRenewalError
          ? 'quota lease renewal failed: windows run out and the next calls take the full lease statement'
          : 'quota lease give-back failed: the expiry job reclaims the lease once it expires', { error: err }))),
        ...options.quotaLeases,
        policy: {
          serveMs: kernel.config.GATEWAY_LEASE_SERVE_MS,
          // A killed instance's leases stay set aside as long as its calls may run (the reservation TTL of gateway.ts).
          graceMs: reservationTtlSeconds(retry) * 1000,
          ...options.quotaLeases?.policy,
        },
      })
    : undefined;
  return {
    ...kernel,
    keyEncryptor: options.keyEncryptor ?? (await openKeyEncryptor(kernel.config)),
    notifier: options.notifier ?? channelNotifier({ webhook: webhookNotifier({ secret: webhookSecret, guard: urlGuard }), log: logNotifier(rootLogger.child({ function: 'providers' })) }),
    platformKeys: options.platformKeys ?? kernel.config.PROVIDER_KEYS,
    urlGuard,
    retry,
    reserves: new ReserveBatcher({ database: kernel.database, ...options.reserveBatch }),
    settles,
    ...(quotaLeases ? { quotaLeases } : {}),
    track,
    async idle() {
      while (pending.size) await Promise.allSettled([...pending]);
    },
    close: async () => {
      // SIGTERM (serve.ts, after the requests drained): every queued settle is committed before the pool closes.
      await settles.close();
      while (pending.size) await Promise.allSettled([...pending]);
      // Then the unused allowance goes back now rather than when the leases expire (in-flight calls settled above).
      await quotaLeases?.returnAll().catch((err) => rootLogger.warn('quota leases not given back at shutdown (the expiry job reclaims them)', { error: err }));
      await kernel.close?.();
    },
  };
}
