// Per-tenant token buckets for the self-service API, so one busy tenant cannot starve the others. Each key (a
// tenant, or a caller for routes without one) has its own bucket of `burst` tokens refilled at `ratePerSecond`.
// Buckets live in memory, one set per replica: N replicas allow up to N times the rate in total.

import { realClock, type Clock } from "../runtime/clock.js";

export interface RateLimitOptions {
  /** Tokens added per second to each bucket. */
  ratePerSecond: number;
  /** Bucket size: the requests a key may send at once. */
  burst: number;
  clock?: Clock;
  /** Buckets kept before full ones are dropped. A dropped bucket was full, and a new one starts full. */
  maxKeys?: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  lastMs: number;
}

export class KeyedRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly clock: Clock;
  private readonly maxKeys: number;

  constructor(private readonly options: RateLimitOptions) {
    if (!(options.ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be > 0, got ${options.ratePerSecond}`);
    if (!Number.isInteger(options.burst) || options.burst < 1) {
      throw new RangeError(`burst must be an integer >= 1, got ${options.burst}`);
    }
    this.clock = options.clock ?? realClock;
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  /** Takes one token from the bucket of `key`; when it is empty, returns the whole seconds until one is back. */
  take(key: string): RateDecision {
    const nowMs = this.clock.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.options.burst, lastMs: nowMs };
    const elapsedMs = Math.max(0, nowMs - bucket.lastMs);
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + (elapsedMs * this.options.ratePerSecond) / 1000);
    bucket.lastMs = nowMs;
    this.remember(key, bucket);

    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    const waitMs = ((1 - bucket.tokens) * 1000) / this.options.ratePerSecond;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  /** Number of buckets held, for tests. */
  size(): number {
    return this.buckets.size;
  }

  private remember(key: string, bucket: Bucket): void {
    this.buckets.set(key, bucket);
    if (this.buckets.size <= this.maxKeys) return;
    // Drop buckets that would be full by now; they carry no state worth keeping.
    const nowMs = this.clock.now();
    for (const [other, state] of this.buckets) {
      const refilled = state.tokens + ((nowMs - state.lastMs) * this.options.ratePerSecond) / 1000;
      if (other !== key && refilled >= this.options.burst) this.buckets.delete(other);
    }
  }
}
