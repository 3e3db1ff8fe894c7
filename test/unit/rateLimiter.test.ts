// Unit tests of the retry rate limiters, with a fake clock for the token bucket.
import { describe, expect, test } from "@jest/globals";
import { FakeClock, type Clock } from "../../src/runtime/clock.js";
import {
  BucketRateLimiter,
  ExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
  type RateLimiter,
} from "../../src/runtime/rateLimiter.js";

function delays(limiter: RateLimiter, key: string, count: number): number[] {
  return Array.from({ length: count }, () => limiter.when(key));
}

describe("ExponentialFailureRateLimiter", () => {
  test("backoff doubles per failure", () => {
    const limiter = new ExponentialFailureRateLimiter();

    expect(delays(limiter, "a", 8)).toEqual([5, 10, 20, 40, 80, 160, 320, 640]);
  });

  test("backoff stops at default cap", () => {
    const limiter = new ExponentialFailureRateLimiter();
    const all = delays(limiter, "a", 20);

    // 5 * 2^15 = 163_840 is the last delay below the cap, and 5 * 2^16 = 327_680 is above it.
    expect(all[15]).toBe(163_840);
    expect(all[16]).toBe(300_000);
    expect(all[19]).toBe(300_000);
  });

  test("backoff stays at cap after many failures", () => {
    const limiter = new ExponentialFailureRateLimiter({ baseDelayMs: 5, maxDelayMs: 1_000 });
    const all = delays(limiter, "a", 5_000);

    expect(all[8]).toBe(1_000);
    expect(all[4_999]).toBe(1_000);
    expect(limiter.numRequeues("a")).toBe(5_000);
  });

  test("custom base and cap apply", () => {
    const limiter = new ExponentialFailureRateLimiter({ baseDelayMs: 100, maxDelayMs: 500 });

    expect(delays(limiter, "a", 5)).toEqual([100, 200, 400, 500, 500]);
  });

  test("zero base delay never waits", () => {
    const limiter = new ExponentialFailureRateLimiter({ baseDelayMs: 0, maxDelayMs: 10 });

    expect(delays(limiter, "a", 2_000).every((delay) => delay === 0)).toBe(true);
  });

  test("keys back off independently", () => {
    const limiter = new ExponentialFailureRateLimiter();

    expect(delays(limiter, "a", 3)).toEqual([5, 10, 20]);
    expect(limiter.when("b")).toBe(5);
    expect(limiter.when("a")).toBe(40);
    expect(limiter.numRequeues("a")).toBe(4);
    expect(limiter.numRequeues("b")).toBe(1);
  });

  test("forget resets backoff of one key", () => {
    const limiter = new ExponentialFailureRateLimiter();
    delays(limiter, "a", 3);
    delays(limiter, "b", 2);

    limiter.forget("a");

    expect(limiter.numRequeues("a")).toBe(0);
    expect(limiter.when("a")).toBe(5);
    expect(limiter.numRequeues("b")).toBe(2);
    expect(limiter.when("b")).toBe(20);
  });

  test("numRequeues of unknown key is zero", () => {
    expect(new ExponentialFailureRateLimiter().numRequeues("never-failed")).toBe(0);
  });

  test("invalid options are rejected", () => {
    expect(() => new ExponentialFailureRateLimiter({ baseDelayMs: -1 })).toThrow(/baseDelayMs/);
    expect(() => new ExponentialFailureRateLimiter({ baseDelayMs: Number.NaN })).toThrow(/baseDelayMs/);
    expect(() => new ExponentialFailureRateLimiter({ baseDelayMs: 10, maxDelayMs: 5 })).toThrow(/maxDelayMs/);
    expect(() => new ExponentialFailureRateLimiter({ maxDelayMs: Number.POSITIVE_INFINITY })).toThrow(/maxDelayMs/);
  });
});

describe("BucketRateLimiter", () => {
  test("burst passes without delay", () => {
    const limiter = new BucketRateLimiter({ clock: new FakeClock() });

    expect(delays(limiter, "a", 100).every((delay) => delay === 0)).toBe(true);
  });

  test("reservations past burst add up", () => {
    const limiter = new BucketRateLimiter({ clock: new FakeClock() });
    delays(limiter, "a", 100);

    // At 10 qps each token past the burst takes another 100 ms.
    expect(delays(limiter, "b", 3)).toEqual([100, 200, 300]);
  });

  test("bucket refills at qps on the clock", () => {
    const clock = new FakeClock();
    const limiter = new BucketRateLimiter({ qps: 10, burst: 2, clock });
    delays(limiter, "a", 2);

    expect(limiter.when("a")).toBe(100);

    // The reservation above consumed the token refilled by 100 ms, so the next one is refilled at 200 ms.
    clock.advance(100);
    expect(limiter.when("a")).toBe(100);

    clock.advance(500);
    expect(limiter.when("a")).toBe(0);
    expect(limiter.when("a")).toBe(0);
    expect(limiter.when("a")).toBe(100);
  });

  test("refill stops at burst", () => {
    const clock = new FakeClock();
    const limiter = new BucketRateLimiter({ qps: 10, burst: 3, clock });

    clock.advance(3_600_000);

    expect(delays(limiter, "a", 4)).toEqual([0, 0, 0, 100]);
  });

  test("partial refill shortens the wait", () => {
    const clock = new FakeClock();
    const limiter = new BucketRateLimiter({ qps: 10, burst: 1, clock });
    limiter.when("a");

    clock.advance(50);

    expect(limiter.when("a")).toBe(50);
  });

  test("clock going backwards refills nothing", () => {
    let nowMs = 10_000;
    const clock: Clock = { now: () => nowMs, setTimeout: () => undefined, clearTimeout: () => {} };
    const limiter = new BucketRateLimiter({ qps: 10, burst: 1, clock });
    limiter.when("a");

    nowMs = 0;
    expect(limiter.when("a")).toBe(100);

    // Refill counts from the backwards reading, as in Go's rate.Limiter.
    nowMs = 100;
    expect(limiter.when("a")).toBe(100);
  });

  test("keys are ignored", () => {
    const limiter = new BucketRateLimiter({ clock: new FakeClock() });
    delays(limiter, "a", 5);

    limiter.forget("a");

    expect(limiter.numRequeues("a")).toBe(0);
  });

  test("invalid options are rejected", () => {
    expect(() => new BucketRateLimiter({ qps: 0 })).toThrow(/qps/);
    expect(() => new BucketRateLimiter({ qps: Number.POSITIVE_INFINITY })).toThrow(/qps/);
    expect(() => new BucketRateLimiter({ burst: 0 })).toThrow(/burst/);
    expect(() => new BucketRateLimiter({ burst: 1.5 })).toThrow(/burst/);
  });
});

describe("MaxOfRateLimiter", () => {
  test("returns largest delay and count", () => {
    const clock = new FakeClock();
    const limiter = new MaxOfRateLimiter(
      new ExponentialFailureRateLimiter({ baseDelayMs: 1, maxDelayMs: 1_000 }),
      new ExponentialFailureRateLimiter({ baseDelayMs: 3, maxDelayMs: 10 }),
      new BucketRateLimiter({ qps: 1, burst: 100, clock }),
    );

    expect(delays(limiter, "a", 5)).toEqual([3, 6, 10, 10, 16]);
    expect(limiter.numRequeues("a")).toBe(5);
  });

  test("empty limiter list is rejected", () => {
    expect(() => new MaxOfRateLimiter()).toThrow(/at least one/);
  });
});

describe("defaultControllerRateLimiter", () => {
  test("per-key backoff wins for one key", () => {
    const limiter = defaultControllerRateLimiter({ clock: new FakeClock() });

    expect(delays(limiter, "a", 6)).toEqual([5, 10, 20, 40, 80, 160]);
    expect(limiter.numRequeues("a")).toBe(6);
  });

  test("per-key backoff stops at default cap", () => {
    const limiter = defaultControllerRateLimiter({ clock: new FakeClock() });
    const all = delays(limiter, "a", 20);

    expect(all[16]).toBe(300_000);
    expect(all[19]).toBe(300_000);
  });

  test("global bucket wins after burst", () => {
    const clock = new FakeClock();
    const limiter = defaultControllerRateLimiter({ clock });
    const firstFailures = Array.from({ length: 100 }, (_, i) => limiter.when(`key-${i}`));

    expect(firstFailures.every((delay) => delay === 5)).toBe(true);
    expect(limiter.when("key-100")).toBe(100);
    expect(limiter.when("key-101")).toBe(200);

    clock.advance(10_000);
    expect(limiter.when("key-102")).toBe(5);
  });

  test("forget resets per-key backoff only", () => {
    const limiter = defaultControllerRateLimiter({ clock: new FakeClock(), burst: 3 });
    delays(limiter, "a", 3);

    limiter.forget("a");

    expect(limiter.numRequeues("a")).toBe(0);
    // The bucket is still empty, so the reset key waits for its token.
    expect(limiter.when("a")).toBe(100);
  });

  test("options override defaults", () => {
    const clock = new FakeClock();
    const limiter = defaultControllerRateLimiter({ baseDelayMs: 50, maxDelayMs: 120, qps: 1, burst: 2, clock });

    expect(delays(limiter, "a", 3)).toEqual([50, 100, 1_000]);
    expect(limiter.when("b")).toBe(2_000);
  });
});
