// Retry rate limiters for the work queue, modelled on client-go's workqueue package. A failing key backs off
// exponentially on its own, and a token bucket shared by all keys caps the total retry rate. Together they keep a
// burst of failures, such as an API server outage, from turning into a storm of retries. The default combination
// returns the larger of the two delays, like client-go's DefaultControllerRateLimiter.

import { realClock, type Clock } from "./clock.js";

/** Decides how long a key waits before its next retry. */
export interface RateLimiter {
  /** Records one more failure of `key` and returns how many ms to wait before retrying it. */
  when(key: string): number;
  /** Clears the failure history of `key`. Call it when the key was processed successfully. */
  forget(key: string): void;
  /** Returns the number of failures recorded for `key` since its last forget. */
  numRequeues(key: string): number;
}

export interface ExponentialFailureRateLimiterOptions {
  /** Delay after the first failure, in ms. Default 5. */
  baseDelayMs?: number;
  /** Maximum delay, in ms. Default 300_000 (5 minutes). */
  maxDelayMs?: number;
}

/**
 * Per-key exponential backoff: the n-th failure of a key since its last forget waits baseDelayMs * 2^(n-1) ms,
 * capped at maxDelayMs. The limiter keeps one counter per key until `forget`, so callers must forget keys that
 * succeed or are deleted.
 */
export class ExponentialFailureRateLimiter implements RateLimiter {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  private readonly failures = new Map<string, number>();

  // NOTE: client-go defaults maxDelay to 1000 s. The 5 minute default bounds how long a tenant waits after the cause
  // of its failures is fixed.
  constructor(options: ExponentialFailureRateLimiterOptions = {}) {
    const baseDelayMs = options.baseDelayMs ?? 5;
    const maxDelayMs = options.maxDelayMs ?? 300_000;
    if (!Number.isFinite(baseDelayMs) || baseDelayMs < 0) {
      throw new RangeError(`baseDelayMs must be a finite number >= 0, got ${baseDelayMs}`);
    }
    if (!Number.isFinite(maxDelayMs) || maxDelayMs < baseDelayMs) {
      throw new RangeError(`maxDelayMs must be a finite number >= baseDelayMs (${baseDelayMs}), got ${maxDelayMs}`);
    }
    this.baseDelayMs = baseDelayMs;
    this.maxDelayMs = maxDelayMs;
  }

  when(key: string): number {
    const exponent = this.failures.get(key) ?? 0;
    this.failures.set(key, exponent + 1);
    // 2^1023 is the largest finite power of two, and any larger exponent is past every cap anyway.
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(exponent, 1023));
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

export interface BucketRateLimiterOptions {
  /** Tokens added per second. Default 10. */
  qps?: number;
  /** Bucket size, which is the number of retries allowed at once without delay. Default 100. */
  burst?: number;
  /** Time source for the refill. Default realClock. */
  clock?: Clock;
}

/**
 * Token bucket shared by all keys, with the semantics of Go's rate.Limiter.Reserve. Every `when` takes one token,
 * and when the bucket is empty it reserves a future token and returns the wait until then. Reservations add up, so
 * the n-th retry past the burst waits about n / qps seconds. Keys are ignored, so `numRequeues` is always 0.
 */
export class BucketRateLimiter implements RateLimiter {
  readonly qps: number;
  readonly burst: number;
  private readonly clock: Clock;
  /** Tokens at `lastMs`. A negative value counts reservations of tokens not yet refilled. */
  private tokens: number;
  private lastMs: number;

  constructor(options: BucketRateLimiterOptions = {}) {
    const qps = options.qps ?? 10;
    const burst = options.burst ?? 100;
    if (!Number.isFinite(qps) || qps <= 0) throw new RangeError(`qps must be a finite number > 0, got ${qps}`);
    if (!Number.isInteger(burst) || burst < 1) throw new RangeError(`burst must be an integer >= 1, got ${burst}`);
    this.qps = qps;
    this.burst = burst;
    this.clock = options.clock ?? realClock;
    this.tokens = burst;
    this.lastMs = this.clock.now();
  }

  when(_key: string): number {
    const nowMs = this.clock.now();
    // A clock that went backwards refills nothing, as in rate.Limiter.
    const elapsedMs = Math.max(0, nowMs - this.lastMs);
    const refilled = Math.min(this.burst, this.tokens + (elapsedMs * this.qps) / 1000);
    this.tokens = refilled - 1;
    this.lastMs = nowMs;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.qps;
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}

/** Combines limiters: `when` calls every limiter and returns the longest delay, `numRequeues` the largest count. */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    if (limiters.length === 0) throw new RangeError("MaxOfRateLimiter needs at least one limiter");
    this.limiters = limiters;
  }

  when(key: string): number {
    // Every limiter must record the failure, so no short-circuit.
    return Math.max(...this.limiters.map((limiter) => limiter.when(key)));
  }

  forget(key: string): void {
    for (const limiter of this.limiters) limiter.forget(key);
  }

  numRequeues(key: string): number {
    return Math.max(...this.limiters.map((limiter) => limiter.numRequeues(key)));
  }
}

export type ControllerRateLimiterOptions = ExponentialFailureRateLimiterOptions & BucketRateLimiterOptions;

/**
 * Returns the rate limiter for controllers: per-key exponential backoff (5 ms doubling up to 5 minutes) combined with
 * a shared bucket of 10 qps and burst 100. Each default can be overridden.
 */
export function defaultControllerRateLimiter(options: ControllerRateLimiterOptions = {}): RateLimiter {
  return new MaxOfRateLimiter(
    new ExponentialFailureRateLimiter({ baseDelayMs: options.baseDelayMs, maxDelayMs: options.maxDelayMs }),
    new BucketRateLimiter({ qps: options.qps, burst: options.burst, clock: options.clock }),
  );
}
