/**
 * Unwrapped data keys (DEKs) kept per instance, so a provider key used on every call does not cost a
 * Cloud KMS round trip each time. Bounded both ways: an entry lives `ttlMs` from its unwrap (a hit
 * does not extend it, so KMS is asked again at least that often: disabling the key version or
 * revoking the function's decrypt permission takes effect within ttlMs), and at most `max` entries
 * are held (the oldest goes first). Every DEK leaving the cache is zeroed. The trade-off is written up
 * in SECURITY.md ("Provider keys in memory"): the decrypted provider key itself is never cached.
 */
export interface DekCacheOptions {
  ttlMs: number;
  max: number;
  /** Test hook: the clock. */
  now?: () => number;
}

export class DekCache {
  /** Insertion order is unwrap order, hence expiry order (one fixed ttl). */
  private readonly entries = new Map<string, { dek: Buffer; until: number }>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: DekCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** A copy the caller zeroes, or undefined (an expired entry is zeroed and dropped here). */
  get(id: string): Buffer | undefined {
    const hit = this.entries.get(id);
    if (!hit) return undefined;
    if (hit.until <= this.now()) {
      this.drop(id);
      return undefined;
    }
    return Buffer.from(hit.dek);
  }

  /** Takes ownership of `dek` (zeroed when it leaves the cache); the caller keeps its own copy. */
  set(id: string, dek: Buffer): void {
    if (this.entries.has(id)) this.drop(id);
    while (this.entries.size >= this.options.max) this.drop(this.entries.keys().next().value!);
    this.entries.set(id, { dek, until: this.now() + this.options.ttlMs });
    this.schedule();
  }

  /** Zeroes and drops every entry. */
  clear(): void {
    for (const id of [...this.entries.keys()]) this.drop(id);
  }

  /** Zeroes and drops the expired entries (the oldest first, stopping at the first live one). */
  sweep(): void {
    const now = this.now();
    for (const [id, entry] of this.entries) {
      if (entry.until > now) break;
      this.drop(id);
    }
  }

  private drop(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.dek.fill(0);
    this.entries.delete(id);
    if (!this.entries.size && this.sweeper) {
      clearTimeout(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /** Expired keys are zeroed on time even when nothing asks for them again (unref: never holds the process). */
  private schedule(): void {
    if (this.sweeper) return;
    const first = this.entries.values().next().value;
    if (!first) return;
    this.sweeper = setTimeout(() => {
      this.sweeper = undefined;
      this.sweep();
      this.schedule();
    }, Math.max(1, first.until - this.now()));
    this.sweeper.unref();
  }
}
