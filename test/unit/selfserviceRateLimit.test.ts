// Unit tests of the per-tenant token buckets, with a fake clock.
import { describe, expect, test } from "@jest/globals";
import { FakeClock } from "../../src/runtime/clock.js";
import { KeyedRateLimiter } from "../../src/selfservice/rateLimit.js";

describe("KeyedRateLimiter", () => {
  test("burst passes, then the bucket is empty", () => {
    const limiter = new KeyedRateLimiter({ ratePerSecond: 1, burst: 3, clock: new FakeClock() });

    const decisions = Array.from({ length: 4 }, () => limiter.take("tenant:a"));

    expect(decisions.slice(0, 3)).toEqual([{ allowed: true }, { allowed: true }, { allowed: true }]);
    expect(decisions[3]).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  test("one key's empty bucket leaves other keys alone", () => {
    const limiter = new KeyedRateLimiter({ ratePerSecond: 1, burst: 1, clock: new FakeClock() });
    limiter.take("tenant:a");

    expect(limiter.take("tenant:a").allowed).toBe(false);
    expect(limiter.take("tenant:b").allowed).toBe(true);
  });

  test("tokens come back at the rate", () => {
    const clock = new FakeClock();
    const limiter = new KeyedRateLimiter({ ratePerSecond: 2, burst: 1, clock });
    limiter.take("k");

    clock.advance(400);
    expect(limiter.take("k").allowed).toBe(false);
    clock.advance(600);
    expect(limiter.take("k").allowed).toBe(true);
  });

  test("retry-after rounds up to whole seconds", () => {
    const limiter = new KeyedRateLimiter({ ratePerSecond: 0.25, burst: 1, clock: new FakeClock() });
    limiter.take("k");

    expect(limiter.take("k")).toEqual({ allowed: false, retryAfterSeconds: 4 });
  });

  test("rejected requests take no token", () => {
    const clock = new FakeClock();
    const limiter = new KeyedRateLimiter({ ratePerSecond: 1, burst: 1, clock });
    limiter.take("k");
    for (let i = 0; i < 10; i++) limiter.take("k");

    clock.advance(1000);
    expect(limiter.take("k").allowed).toBe(true);
  });

  test("full buckets are dropped past maxKeys", () => {
    const clock = new FakeClock();
    const limiter = new KeyedRateLimiter({ ratePerSecond: 10, burst: 1, clock, maxKeys: 2 });
    limiter.take("a");
    limiter.take("b");
    clock.advance(1000);
    limiter.take("c");

    expect(limiter.size()).toBe(1);
  });

  test("invalid settings are rejected", () => {
    expect(() => new KeyedRateLimiter({ ratePerSecond: 0, burst: 1 })).toThrow("ratePerSecond must be > 0, got 0");
    expect(() => new KeyedRateLimiter({ ratePerSecond: 1, burst: 0.5 })).toThrow(
      "burst must be an integer >= 1, got 0.5",
    );
  });
});
