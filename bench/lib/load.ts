/**
 * A closed-loop load generator on loopback: `concurrency` workers each run the next operation as
 * soon as their previous one ends, until `total` operations are done or `maxMs` has passed
 * (whichever first), so every run is bounded in count and in time.
 */
export interface LoadOptions {
  concurrency: number;
  total: number;
  maxMs: number;
  /** Operations run first and thrown away (JIT, connection pools, caches). */
  warmup?: number;
}

export interface LoadResult {
  /** Latency of each successful operation, ms. */
  latencies: number[];
  /** Extra per-operation figure an operation may report (e.g. time to first byte). */
  extras: number[];
  errors: number;
  firstError?: string;
  completed: number;
  /** Warm-up operations run before the measured window (they still cost CPU), and how many failed. */
  warmedUp: number;
  warmupErrors: number;
  elapsedMs: number;
}

export type Operation = (index: number) => Promise<number | void>;

export async function runLoad(options: LoadOptions, op: Operation): Promise<LoadResult> {
  let warmupErrors = 0;
  for (let i = 0; i < (options.warmup ?? 0); i += options.concurrency) {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, (options.warmup ?? 0) - i) }, (_, j) => op(-1 - i - j).catch(() => void warmupErrors++)));
  }
  const latencies: number[] = [];
  const extras: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const started = performance.now();
  const deadline = started + options.maxMs;
  const worker = async () => {
    while (next < options.total && performance.now() < deadline) {
      const index = next++;
      const t0 = performance.now();
      try {
        const extra = await op(index);
        latencies.push(performance.now() - t0);
        if (typeof extra === 'number') extras.push(extra);
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsedMs = performance.now() - started;
  return { latencies, extras, errors, firstError, completed: latencies.length, warmedUp: options.warmup ?? 0, warmupErrors, elapsedMs };
}
