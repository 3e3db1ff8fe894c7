// Unit tests of the work queue and of the fake clock that drives its timers. Promises from `get` and
// `shutDownWithDrain` settle in microtasks, so tests flush them with a real setImmediate before checking.
import { describe, expect, test } from "@jest/globals";
import { FakeClock } from "../../src/runtime/clock.js";
import {
  workqueueAdds,
  workqueueDepth,
  workqueueQueueDuration,
  workqueueRetries,
  workqueueWorkDuration,
} from "../../src/runtime/metrics.js";
import { ExponentialFailureRateLimiter } from "../../src/runtime/rateLimiter.js";
import { WorkQueue, type WorkQueueMetrics } from "../../src/runtime/workqueue.js";
import { prometheusQueueMetrics } from "../../src/runtime/workqueueMetrics.js";

/** Lets every promise callback that is already due run. */
async function flushPromises(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}

interface Tracked<T> {
  settled: boolean;
  value: T | undefined;
}

/** Records when a promise resolves, so that a test can check that it is still pending. */
function track<T>(promise: Promise<T>): Tracked<T> {
  const tracked: Tracked<T> = { settled: false, value: undefined };
  void promise.then((value) => {
    tracked.settled = true;
    tracked.value = value;
  });
  return tracked;
}

class RecordingMetrics implements WorkQueueMetrics {
  depths: number[] = [];
  adds = 0;
  queueLatencies: number[] = [];
  workDurations: number[] = [];
  retries = 0;

  depth(n: number): void {
    this.depths.push(n);
  }
  add(): void {
    this.adds++;
  }
  queueLatency(seconds: number): void {
    this.queueLatencies.push(seconds);
  }
  workDuration(seconds: number): void {
    this.workDurations.push(seconds);
  }
  retry(): void {
    this.retries++;
  }
}

function newQueue(clock = new FakeClock(), metrics?: WorkQueueMetrics): WorkQueue {
  return new WorkQueue({ name: "test", clock, metrics });
}

/** Takes `count` keys with `get`, which must all be available at once. */
async function takeKeys(queue: WorkQueue, count: number): Promise<(string | undefined)[]> {
  const keys: (string | undefined)[] = [];
  for (let i = 0; i < count; i++) keys.push(await queue.get());
  return keys;
}

describe("FakeClock", () => {
  test("advance runs timers in time order", () => {
    const clock = new FakeClock();
    const runs: string[] = [];
    const runTimes: number[] = [];
    const record = (name: string) => () => {
      runs.push(name);
      runTimes.push(clock.now());
    };
    clock.setTimeout(record("c"), 30);
    clock.setTimeout(record("a"), 10);
    clock.setTimeout(record("b"), 20);
    clock.setTimeout(record("a2"), 10);
    clock.setTimeout(record("late"), 31);

    clock.advance(30);

    expect(runs).toEqual(["a", "a2", "b", "c"]);
    expect(runTimes).toEqual([10, 10, 20, 30]);
    expect(clock.now()).toBe(30);
    expect(clock.pendingTimers()).toBe(1);
  });

  test("advance runs timers scheduled within window", () => {
    const clock = new FakeClock(1_000);
    const runTimes: number[] = [];
    clock.setTimeout(() => {
      clock.setTimeout(() => runTimes.push(clock.now()), 5);
      clock.setTimeout(() => runTimes.push(clock.now()), 30);
    }, 10);

    clock.advance(20);

    expect(runTimes).toEqual([1_015]);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(20);
    expect(runTimes).toEqual([1_015, 1_040]);
  });

  test("negative delay runs on next advance", () => {
    const clock = new FakeClock();
    let runs = 0;
    clock.setTimeout(() => runs++, -5);

    clock.advance(0);

    expect(runs).toBe(1);
  });

  test("clearTimeout cancels timer", () => {
    const clock = new FakeClock();
    let runs = 0;
    const handle = clock.setTimeout(() => runs++, 10);

    clock.clearTimeout(handle);
    clock.advance(100);

    expect(runs).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  test("advance rejects negative time", () => {
    expect(() => new FakeClock().advance(-1)).toThrow(RangeError);
  });
});

describe("WorkQueue basics", () => {
  test("get returns keys in FIFO order", async () => {
    const queue = newQueue();
    queue.add("a");
    queue.add("b");
    queue.add("c");

    expect(await takeKeys(queue, 3)).toEqual(["a", "b", "c"]);
    expect(queue.len()).toBe(0);
  });

  test("repeated adds collapse into one item", async () => {
    const queue = newQueue();
    queue.add("a");
    queue.add("b");
    queue.add("a");
    queue.add("a");

    expect(queue.len()).toBe(2);
    expect(await takeKeys(queue, 2)).toEqual(["a", "b"]);
    const third = track(queue.get());
    await flushPromises();
    expect(third.settled).toBe(false);
  });

  test("get waits for an add", async () => {
    const queue = newQueue();
    const pending = track(queue.get());
    await flushPromises();
    expect(pending.settled).toBe(false);

    queue.add("a");
    await flushPromises();

    expect(pending.value).toBe("a");
    expect(queue.len()).toBe(0);
  });

  test("concurrent getters receive distinct keys", async () => {
    const queue = newQueue();
    const getters = [track(queue.get()), track(queue.get()), track(queue.get())];

    queue.add("a");
    queue.add("a");
    queue.add("b");
    await flushPromises();

    expect(getters.map((getter) => getter.value)).toEqual(["a", "b", undefined]);
    expect(getters[2]?.settled).toBe(false);
    queue.add("c");
    await flushPromises();
    expect(getters[2]?.value).toBe("c");
  });

  test("processing key is not handed out twice", async () => {
    const queue = newQueue();
    queue.add("a");
    const first = await queue.get();

    queue.add("a");
    const second = track(queue.get());
    await flushPromises();

    expect(first).toBe("a");
    expect(queue.len()).toBe(0);
    expect(second.settled).toBe(false);

    queue.done("a");
    await flushPromises();
    expect(second.value).toBe("a");
  });

  test("add during processing runs exactly once more", async () => {
    const queue = newQueue();
    queue.add("a");
    expect(await queue.get()).toBe("a");

    queue.add("a");
    queue.add("a");
    queue.add("a");
    expect(queue.len()).toBe(0);

    queue.done("a");
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe("a");
    queue.done("a");

    expect(queue.len()).toBe(0);
    const third = track(queue.get());
    await flushPromises();
    expect(third.settled).toBe(false);
  });

  test("key added during processing goes to back", async () => {
    const queue = newQueue();
    queue.add("a");
    await queue.get();
    queue.add("a");
    queue.add("b");

    queue.done("a");

    expect(await takeKeys(queue, 2)).toEqual(["b", "a"]);
  });

  test("done of idle or queued key is ignored", async () => {
    const queue = newQueue();
    queue.done("x");
    queue.add("a");

    queue.done("a");

    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe("a");
    expect(queue.len()).toBe(0);
  });

  test("done without add leaves key idle", async () => {
    const queue = newQueue();
    queue.add("a");
    await queue.get();

    queue.done("a");
    queue.done("a");

    expect(queue.len()).toBe(0);
    queue.add("a");
    expect(queue.len()).toBe(1);
  });
});

describe("WorkQueue addAfter", () => {
  test("addAfter adds only after the delay", () => {
    const clock = new FakeClock();
    const queue = newQueue(clock);

    queue.addAfter("a", 100);
    expect(queue.len()).toBe(0);
    expect(clock.pendingTimers()).toBe(1);

    clock.advance(99);
    expect(queue.len()).toBe(0);

    clock.advance(1);
    expect(queue.len()).toBe(1);
    expect(clock.pendingTimers()).toBe(0);
  });

  test("earlier delay replaces later one", async () => {
    const clock = new FakeClock();
    const queue = newQueue(clock);

    queue.addAfter("a", 100);
    queue.addAfter("a", 50);
    expect(clock.pendingTimers()).toBe(1);

    clock.advance(49);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);

    expect(await queue.get()).toBe("a");
    queue.done("a");
    clock.advance(100);
    expect(queue.len()).toBe(0);
  });

  test("later delay keeps earlier one", async () => {
    const clock = new FakeClock();
    const queue = newQueue(clock);

    queue.addAfter("a", 50);
    clock.advance(10);
    queue.addAfter("a", 100);
    expect(clock.pendingTimers()).toBe(1);

    clock.advance(39);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);

    expect(await queue.get()).toBe("a");
    queue.done("a");
    clock.advance(1_000);
    expect(queue.len()).toBe(0);
  });

  test("delayed keys become ready in time order", async () => {
    const clock = new FakeClock();
    const queue = newQueue(clock);
    queue.addAfter("slow", 30);
    queue.addAfter("fast", 10);
    queue.addAfter("medium", 20);

    clock.advance(30);

    expect(await takeKeys(queue, 3)).toEqual(["fast", "medium", "slow"]);
  });

  test("non-positive delay adds at once", () => {
    const clock = new FakeClock();
    const queue = newQueue(clock);

    queue.addAfter("zero", 0);
    queue.addAfter("negative", -10);

    expect(queue.len()).toBe(2);
    expect(clock.pendingTimers()).toBe(0);
  });

  test("delayed add collapses with queued key", () => {
    const clock = new FakeClock();
    const queue = newQueue(clock);
    queue.add("a");

    queue.addAfter("a", 10);
    clock.advance(10);

    expect(queue.len()).toBe(1);
  });

  test("delayed add survives plain add", async () => {
    const clock = new FakeClock();
    const queue = newQueue(clock);
    queue.addAfter("a", 10);
    queue.add("a");
    expect(await queue.get()).toBe("a");
    queue.done("a");

    clock.advance(10);

    expect(queue.len()).toBe(1);
  });

  test("delayed add of processing key runs after done", async () => {
    const clock = new FakeClock();
    const queue = newQueue(clock);
    queue.add("a");
    await queue.get();

    queue.addAfter("a", 10);
    clock.advance(10);
    expect(queue.len()).toBe(0);

    queue.done("a");
    expect(queue.len()).toBe(1);
  });
});

describe("WorkQueue addRateLimited", () => {
  test("addRateLimited backs off exponentially", async () => {
    const clock = new FakeClock();
    const queue = newQueue(clock);

    for (const expectedDelay of [5, 10, 20, 40]) {
      queue.addRateLimited("a");
      clock.advance(expectedDelay - 1);
      expect(queue.len()).toBe(0);
      clock.advance(1);
      expect(queue.len()).toBe(1);
      expect(await queue.get()).toBe("a");
      queue.done("a");
    }

    expect(queue.numRequeues("a")).toBe(4);
  });

  test("forget resets backoff", async () => {
    const clock = new FakeClock();
    const queue = newQueue(clock);
    for (let i = 0; i < 3; i++) queue.addRateLimited("a");
    expect(queue.numRequeues("a")).toBe(3);

    queue.forget("a");
    expect(queue.numRequeues("a")).toBe(0);
    clock.advance(1_000);
    await queue.get();
    queue.done("a");

    queue.addRateLimited("a");
    clock.advance(4);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
  });

  test("backoff stops at configured cap", () => {
    const clock = new FakeClock();
    const rateLimiter = new ExponentialFailureRateLimiter({ baseDelayMs: 5, maxDelayMs: 30 });
    const queue = new WorkQueue({ name: "test", clock, rateLimiter });
    for (let i = 0; i < 10; i++) rateLimiter.when("a");

    queue.addRateLimited("a");
    clock.advance(29);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
  });

  test("default limiter applies bucket on queue clock", () => {
    const clock = new FakeClock();
    const queue = newQueue(clock);
    for (let i = 0; i < 101; i++) queue.addRateLimited(`key-${i}`);

    clock.advance(5);
    expect(queue.len()).toBe(100);

    clock.advance(94);
    expect(queue.len()).toBe(100);

    clock.advance(1);
    expect(queue.len()).toBe(101);
  });
});

describe("WorkQueue metrics", () => {
  test("depth rises and falls", async () => {
    const metrics = new RecordingMetrics();
    const queue = newQueue(new FakeClock(), metrics);

    queue.add("a");
    queue.add("b");
    queue.add("a");
    await queue.get();
    await queue.get();

    expect(metrics.depths).toEqual([1, 2, 1, 0]);
  });

  test("adds counted except collapsed ones", async () => {
    const metrics = new RecordingMetrics();
    const queue = newQueue(new FakeClock(), metrics);

    queue.add("a");
    queue.add("a");
    await queue.get();
    queue.add("a");
    queue.add("a");

    expect(metrics.adds).toBe(2);
    expect(metrics.depths).toEqual([1, 0]);
    queue.done("a");
    expect(metrics.depths).toEqual([1, 0, 1]);
  });

  test("latency and work duration in seconds", async () => {
    const clock = new FakeClock();
    const metrics = new RecordingMetrics();
    const queue = newQueue(clock, metrics);

    queue.add("a");
    clock.advance(250);
    queue.add("a");
    clock.advance(250);
    const key = await queue.get();
    clock.advance(1_500);
    queue.done("a");

    expect(key).toBe("a");
    expect(metrics.queueLatencies).toEqual([0.5]);
    expect(metrics.workDurations).toEqual([1.5]);
  });

  test("latency of key added during processing", async () => {
    const clock = new FakeClock();
    const metrics = new RecordingMetrics();
    const queue = newQueue(clock, metrics);
    queue.add("a");
    await queue.get();

    clock.advance(100);
    queue.add("a");
    clock.advance(300);
    queue.done("a");
    await queue.get();

    expect(metrics.queueLatencies).toEqual([0, 0.3]);
    expect(metrics.workDurations).toEqual([0.4]);
  });

  test("retries counted per addRateLimited", () => {
    const metrics = new RecordingMetrics();
    const queue = newQueue(new FakeClock(), metrics);

    queue.addRateLimited("a");
    queue.addRateLimited("a");
    queue.addRateLimited("b");
    queue.addAfter("c", 10);

    expect(metrics.retries).toBe(3);
  });

  test("prometheusQueueMetrics updates shared metrics", async () => {
    const labels = { name: "unit-workqueue", controller: "unit-controller" };
    const clock = new FakeClock();
    const metrics = prometheusQueueMetrics(labels.name, labels.controller);
    const queue = new WorkQueue({ name: labels.name, clock, metrics });
    const valueOf = async (
      metric: {
        get(): Promise<{
          values: { value: number; labels: Partial<Record<string, string | number>>; metricName?: string }[];
        }>;
      },
      metricName?: string,
    ): Promise<number | undefined> => {
      const { values } = await metric.get();
      const match = values.find(
        (value) =>
          value.labels.name === labels.name &&
          value.labels.controller === labels.controller &&
          (metricName === undefined || value.metricName === metricName),
      );
      return match?.value;
    };

    queue.add("a");
    queue.add("b");
    expect(await valueOf(workqueueDepth)).toBe(2);
    clock.advance(2_000);
    await queue.get();
    clock.advance(500);
    queue.done("a");
    queue.addRateLimited("c");

    expect(await valueOf(workqueueDepth)).toBe(1);
    expect(await valueOf(workqueueAdds)).toBe(2);
    expect(await valueOf(workqueueRetries)).toBe(1);
    expect(await valueOf(workqueueQueueDuration, "workqueue_queue_duration_seconds_count")).toBe(1);
    expect(await valueOf(workqueueQueueDuration, "workqueue_queue_duration_seconds_sum")).toBe(2);
    expect(await valueOf(workqueueWorkDuration, "workqueue_work_duration_seconds_count")).toBe(1);
    expect(await valueOf(workqueueWorkDuration, "workqueue_work_duration_seconds_sum")).toBe(0.5);
  });
});

describe("WorkQueue shutDown", () => {
  test("shutDown resolves waiting getters", async () => {
    const queue = newQueue();
    const getters = [track(queue.get()), track(queue.get())];

    queue.shutDown();
    await flushPromises();

    expect(getters.map((getter) => getter.settled)).toEqual([true, true]);
    expect(getters.map((getter) => getter.value)).toEqual([undefined, undefined]);
    expect(queue.shuttingDown()).toBe(true);
  });

  test("get after shutDown returns undefined", async () => {
    const queue = newQueue();
    queue.add("a");

    queue.shutDown();

    expect(await queue.get()).toBeUndefined();
    expect(queue.len()).toBe(0);
  });

  test("adds after shutDown are ignored", async () => {
    const clock = new FakeClock();
    const metrics = new RecordingMetrics();
    const queue = newQueue(clock, metrics);
    queue.shutDown();

    queue.add("a");
    queue.addAfter("b", 10);
    queue.addRateLimited("c");
    clock.advance(1_000);

    expect(queue.len()).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    expect(queue.numRequeues("c")).toBe(0);
    expect(metrics.adds).toBe(0);
    expect(metrics.retries).toBe(0);
  });

  test("shutDown cancels delayed adds", () => {
    const clock = new FakeClock();
    const queue = newQueue(clock);
    queue.addAfter("a", 10);
    queue.addRateLimited("b");

    queue.shutDown();

    expect(clock.pendingTimers()).toBe(0);
    clock.advance(1_000);
    expect(queue.len()).toBe(0);
  });

  test("done after shutDown does not requeue", async () => {
    const queue = newQueue();
    queue.add("a");
    await queue.get();
    queue.add("a");

    queue.shutDown();
    queue.done("a");

    expect(queue.len()).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });
});

describe("WorkQueue shutDownWithDrain", () => {
  test("drain of idle queue returns true", async () => {
    const clock = new FakeClock();
    const queue = newQueue(clock);

    expect(await queue.shutDownWithDrain(1_000)).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
  });

  test("drain waits for in-flight work", async () => {
    const clock = new FakeClock();
    const queue = newQueue(clock);
    queue.add("a");
    queue.add("b");
    await takeKeys(queue, 2);

    const drained = track(queue.shutDownWithDrain(1_000));
    clock.advance(500);
    queue.done("a");
    await flushPromises();
    expect(drained.settled).toBe(false);

    queue.done("b");
    await flushPromises();
    expect(drained.value).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
  });

  test("drain returns false after deadline", async () => {
    const clock = new FakeClock();
    const queue = newQueue(clock);
    queue.add("a");
    await queue.get();

    const drained = track(queue.shutDownWithDrain(1_000));
    clock.advance(999);
    await flushPromises();
    expect(drained.settled).toBe(false);

    clock.advance(1);
    await flushPromises();
    expect(drained.settled).toBe(true);
    expect(drained.value).toBe(false);

    queue.done("a");
    expect(queue.len()).toBe(0);
  });

  test("drain with zero deadline returns false at once", async () => {
    const queue = newQueue();
    queue.add("a");
    await queue.get();

    expect(await queue.shutDownWithDrain(0)).toBe(false);
  });

  test("drain hands out queued keys", async () => {
    const queue = newQueue();
    queue.add("a");
    queue.add("b");
    await queue.get();

    const drained = track(queue.shutDownWithDrain(1_000));
    expect(await queue.get()).toBe("b");
    expect(await queue.get()).toBeUndefined();

    queue.done("a");
    await flushPromises();
    expect(drained.settled).toBe(false);
    queue.done("b");
    await flushPromises();
    expect(drained.value).toBe(true);
  });

  test("drain processes key added during processing", async () => {
    const queue = newQueue();
    queue.add("a");
    await queue.get();
    queue.add("a");

    const drained = track(queue.shutDownWithDrain(1_000));
    queue.done("a");
    expect(await queue.get()).toBe("a");
    await flushPromises();
    expect(drained.settled).toBe(false);

    queue.done("a");
    await flushPromises();
    expect(drained.value).toBe(true);
  });

  test("drain rejects new adds", async () => {
    const queue = newQueue();
    queue.add("a");
    await queue.get();

    const drained = track(queue.shutDownWithDrain(1_000));
    queue.add("a");
    queue.add("b");
    queue.done("a");
    await flushPromises();

    expect(queue.len()).toBe(0);
    expect(drained.value).toBe(true);
  });

  test("drain cancels delayed adds", () => {
    const clock = new FakeClock();
    const queue = newQueue(clock);
    queue.addAfter("a", 10);

    void queue.shutDownWithDrain(1_000);

    expect(clock.pendingTimers()).toBe(0);
  });

  test("drain resolves waiting getters", async () => {
    const queue = newQueue();
    const getter = track(queue.get());

    const drained = track(queue.shutDownWithDrain(1_000));
    await flushPromises();

    expect(getter.settled).toBe(true);
    expect(getter.value).toBeUndefined();
    expect(drained.value).toBe(true);
  });

  test("shutDown during drain drops queued keys", async () => {
    const queue = newQueue();
    queue.add("a");
    queue.add("b");
    await queue.get();

    const drained = track(queue.shutDownWithDrain(1_000));
    queue.shutDown();
    expect(await queue.get()).toBeUndefined();
    await flushPromises();
    expect(drained.settled).toBe(false);

    queue.done("a");
    await flushPromises();
    expect(drained.value).toBe(true);
  });
});

describe("WorkQueue with concurrent workers", () => {
  test("workers never share a key and lose no add", async () => {
    const queue = newQueue();
    const keys = ["a", "b", "c", "d", "e"];
    // Linear congruential generator, so that every run gets the same interleaving.
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const active = new Set<string>();
    const lastAddStep = new Map<string, number>();
    const lastStartStep = new Map<string, number>();
    let step = 0;
    let overlaps = 0;
    let runs = 0;

    const worker = async (): Promise<void> => {
      for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
        if (active.has(key)) overlaps++;
        active.add(key);
        lastStartStep.set(key, ++step);
        runs++;
        const pauses = Math.floor(random() * 3);
        for (let i = 0; i < pauses; i++) await flushPromises();
        active.delete(key);
        queue.done(key);
      }
    };
    const workers = [worker(), worker(), worker()];

    for (let i = 0; i < 400; i++) {
      const key = keys[Math.floor(random() * keys.length)] ?? "a";
      queue.add(key);
      lastAddStep.set(key, ++step);
      if (random() < 0.5) await flushPromises();
    }
    const drained = await queue.shutDownWithDrain(1_000);
    await Promise.all(workers);

    expect(drained).toBe(true);
    expect(overlaps).toBe(0);
    for (const key of keys) {
      expect(lastStartStep.get(key)).toBeGreaterThan(lastAddStep.get(key) ?? Infinity);
    }
    expect(runs).toBeLessThan(400);
  });
});
