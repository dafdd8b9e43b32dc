import { createRequire } from 'node:module';
import { problems } from '../http/problem.js';
import { randomToken } from './hashing.js';

type Argon2 = typeof import('@node-rs/argon2');

/**
 * The native argon2 binding costs tens of milliseconds to locate and load (musl probing, dlopen), a
 * price every cold start of the auth function paid before it could answer anything. It is loaded on
 * the first hash or verify instead. `import()` keeps the package visible to the bundler (so the
 * deploy manifest lists it); the synchronous `needsRehash` falls back to `require`, which returns
 * the same CommonJS instance.
 */
let argon2: Argon2 | undefined;
const loadArgon2 = async (): Promise<Argon2> => (argon2 ??= await import('@node-rs/argon2'));
const argon2Sync = (): Argon2 => (argon2 ??= createRequire(import.meta.url)('@node-rs/argon2') as Argon2);

/**
 * Argon2id parameters (OWASP Password Storage Cheat Sheet; DESIGN.md §3 "Login"): 64 MiB, 3 passes,
 * 4 lanes. A hash made with other parameters still verifies and is replaced on the next login.
 */
export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}
export const ARGON2_PARAMS: Argon2Params = { memoryCost: 65_536, timeCost: 3, parallelism: 4 };
const ARGON2ID = 2; // Algorithm.Argon2id (a const enum, unusable under isolatedModules)

export interface PasswordHasherOptions {
  params?: Argon2Params;
  /** Hashes running at once per instance: 4 × 64 MiB keeps a 1 GiB instance well clear of OOM. */
  maxConcurrent?: number;
  /** How long a request may wait for a slot before it answers 503 + Retry-After. */
  queueTimeoutMs?: number;
}

/** A counting semaphore with a bounded wait: memory, not CPU, bounds the auth function. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly max: number) {}

  async acquire(timeoutMs: number): Promise<boolean> {
    if (this.active < this.max) {
      this.active++;
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const grant = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const at = this.waiting.indexOf(grant);
        if (at >= 0) this.waiting.splice(at, 1);
        resolve(false);
      }, timeoutMs);
      this.waiting.push(grant);
    });
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next(); // the slot passes straight to the next waiter
    else this.active--;
  }

  get inUse(): number {
    return this.active;
  }
}

export interface VerifyResult {
  ok: boolean;
  /** The stored hash was made with other parameters: hash the password again and store it. */
  needsRehash: boolean;
}

export class PasswordHasher {
  readonly params: Argon2Params;
  private readonly semaphore: Semaphore;
  private readonly queueTimeoutMs: number;
  private dummy: Promise<string> | undefined;

  constructor(options: PasswordHasherOptions = {}) {
    this.params = options.params ?? ARGON2_PARAMS;
    this.semaphore = new Semaphore(options.maxConcurrent ?? 4);
    this.queueTimeoutMs = options.queueTimeoutMs ?? 10_000;
  }

  private async slot<T>(work: () => Promise<T>): Promise<T> {
    if (!(await this.semaphore.acquire(this.queueTimeoutMs))) {
      throw problems.unavailable('too many password checks in progress; retry shortly', 2);
    }
    try {
      return await work();
    } finally {
      this.semaphore.release();
    }
  }

  async hash(password: string): Promise<string> {
    const { hash } = await loadArgon2();
    return this.slot(() => hash(password, { ...this.params, algorithm: ARGON2ID as never }));
  }

  async verify(stored: string, password: string): Promise<VerifyResult> {
    const { verify } = await loadArgon2();
    const ok = await this.slot(() => verify(stored, password).catch(() => false));
    return { ok, needsRehash: ok && needsRehash(stored, this.params) };
  }

  /**
   * Spends the same work as a real check, for an email with no account, so the answer time does
   * not reveal which addresses exist. The dummy hash uses the current parameters.
   */
  async verifyDummy(password: string): Promise<false> {
    this.dummy ??= this.hash(randomToken(24)).catch((err) => {
      this.dummy = undefined;
      throw err;
    });
    await this.verify(await this.dummy, password);
    return false;
  }
}

export function needsRehash(stored: string, params: Argon2Params = ARGON2_PARAMS): boolean {
  try {
    const parsed = argon2Sync().parseOptions(stored);
    return (
      parsed.algorithm !== (ARGON2ID as number) ||
      parsed.memoryCost !== params.memoryCost ||
      parsed.timeCost !== params.timeCost ||
      parsed.parallelism !== params.parallelism
    );
  } catch {
    return true;
  }
}
