// The work queue between event handlers and reconcile workers, modelled on client-go's rate-limiting workqueue.
// Events only name a key, and the reconciler reads the current state itself, so many events for one key can collapse
// into one reconcile. The queue hands a key to only one worker at a time, and a key that changes while a worker processes
// it is processed once more afterwards, so no change is lost and no two reconciles of one object race.

import { realClock, type Clock } from "./clock.js";
import { defaultControllerRateLimiter, type RateLimiter } from "./rateLimiter.js";

/**
 * Hooks that a work queue calls to report its metrics, so that the queue does not depend on a metrics library.
 * See prometheusQueueMetrics in workqueueMetrics.ts.
 */
export interface WorkQueueMetrics {
  /** Receives the new number of queued keys whenever it changes. */
  depth(n: number): void;
  /** Called for each add, except an add that collapses into an earlier add of a key not yet handed out. */
  add(): void;
  /** Receives the seconds from the first uncollapsed add of a key to the `get` that handed it out. */
  queueLatency(seconds: number): void;
  /** Receives the seconds from `get` to `done` of a key. */
  workDuration(seconds: number): void;
  /** Called for each addRateLimited. */
  retry(): void;
}

export interface WorkQueueOptions {
  /** Name of the queue, for logs and metrics. */
  name: string;
  /** Default realClock. */
  clock?: Clock;
  /** Limiter for addRateLimited. Default defaultControllerRateLimiter on the queue's clock. */
  rateLimiter?: RateLimiter;
  metrics?: WorkQueueMetrics;
}

interface DelayedAdd {
  readyAt: number;
  timer: unknown;
}

interface DrainWaiter {
  resolve: (drained: boolean) => void;
  deadlineTimer: unknown;
}

/**
 * Queue of keys with deduplication, delayed adds and per-key retry backoff.
 *
 * A key is in at most one of these states: idle, queued (waiting for `get`), processing (handed out, waiting for
 * `done`), or processing and dirty (added again while processing, so it is queued again on `done`). A delayed add is
 * kept apart from these states and becomes a plain `add` when its time comes.
 *
 * Every key handed out by `get` must be passed to `done` once its processing ends, whether it succeeded or failed.
 */
export class WorkQueue<K extends string = string> {
  readonly name: string;
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter;
  private readonly metrics: WorkQueueMetrics | undefined;

  /** Queued keys in FIFO order. */
  private readonly queue = new KeyFifo<K>();
  /** Keys that need processing: every queued key, and every processing key that was added again. */
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly delayed = new Map<K, DelayedAdd>();
  /** Resolvers of pending `get` calls, oldest first. Non-empty only while the queue is empty. */
  private readonly getters: ((key: K | undefined) => void)[] = [];
  private readonly drainWaiters: DrainWaiter[] = [];
  /** Times of the add that made a key dirty, for queueLatency. */
  private readonly addedAt = new Map<K, number>();
  /** Times of the `get` that handed out a key, for workDuration. */
  private readonly startedAt = new Map<K, number>();
  private isShuttingDown = false;
  /** Whether `get` still hands out queued keys during shutdown, which is true only after shutDownWithDrain. */
  private isDraining = false;

  constructor(options: WorkQueueOptions) {
    this.name = options.name;
    this.clock = options.clock ?? realClock;
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter({ clock: this.clock });
    this.metrics = options.metrics;
  }

  /**
   * Marks `key` as needing processing. Adding a queued key does nothing, and adding a processing key makes it queued
   * again on `done`. Ignored after shutdown.
   */
  add(key: K): void {
    if (this.isShuttingDown || this.dirty.has(key)) return;

    this.dirty.add(key);
    this.addedAt.set(key, this.clock.now());
    this.metrics?.add();
    if (!this.processing.has(key)) this.enqueue(key);
  }

  /**
   * Adds `key` after `delayMs`. If the key already waits for a delayed add, the earlier of the two times wins. A
   * delayed add does not replace a plain add, so `add` followed by `addAfter` processes the key twice, unless the
   * first run has not started when the delay ends. A delay of 0 or less is a plain add. Ignored after shutdown.
   */
  addAfter(key: K, delayMs: number): void {
    if (this.isShuttingDown) return;
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }

    const readyAt = this.clock.now() + delayMs;
    const existing = this.delayed.get(key);
    if (existing) {
      if (existing.readyAt <= readyAt) return;
      this.clock.clearTimeout(existing.timer);
    }
    const timer = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { readyAt, timer });
  }

  /**
   * Adds `key` after the delay that the rate limiter returns, which also records one more failure of the key, and
   * counts a retry. Unlike client-go, a plain addAfter does not count as a retry. Ignored after shutdown.
   */
  addRateLimited(key: K): void {
    if (this.isShuttingDown) return;
    this.metrics?.retry();
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** Clears the retry backoff of `key`. Call it when processing the key succeeded. */
  forget(key: K): void {
    this.rateLimiter.forget(key);
  }

  /** Returns the number of rate-limited retries of `key` since its last forget. */
  numRequeues(key: K): number {
    return this.rateLimiter.numRequeues(key);
  }

  /**
   * Returns the next queued key in FIFO order and marks it as processing, waiting until one is available. Concurrent
   * callers receive distinct keys. Resolves undefined after shutDown, and after shutDownWithDrain once the queue is
   * empty.
   */
  get(): Promise<K | undefined> {
    if (this.isShuttingDown && !this.isDraining) return Promise.resolve(undefined);

    const key = this.queue.shift();
    if (key !== undefined) {
      this.metrics?.depth(this.queue.length);
      this.startProcessing(key);
      return Promise.resolve(key);
    }
    if (this.isShuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /**
   * Ends the processing of `key`, which `get` handed out. If the key was added during processing, it is queued again.
   * A key that is not processing is ignored.
   */
  done(key: K): void {
    if (!this.processing.delete(key)) return;

    const startedAt = this.startedAt.get(key);
    this.startedAt.delete(key);
    if (startedAt !== undefined) this.metrics?.workDuration((this.clock.now() - startedAt) / 1000);
    if (this.dirty.has(key)) this.enqueue(key);
    this.resolveDrainWaitersIfDrained();
  }

  /** Returns the number of queued keys. Processing keys and keys waiting for a delayed add are not counted. */
  len(): number {
    return this.queue.length;
  }

  /** Returns whether shutDown or shutDownWithDrain was called. */
  shuttingDown(): boolean {
    return this.isShuttingDown;
  }

  /**
   * Stops the queue at once: pending and later `get` calls resolve undefined, later adds are ignored, queued keys are
   * dropped and delayed adds are cancelled. Keys being processed may still be passed to `done`.
   */
  shutDown(): void {
    this.isShuttingDown = true;
    this.isDraining = false;
    this.cancelDelayedAdds();

    // Clearing every dirty mark also keeps `done` from queueing a processing key again.
    this.queue.clear();
    this.dirty.clear();
    this.addedAt.clear();
    this.metrics?.depth(0);
    this.resolveGetters();
    this.resolveDrainWaitersIfDrained();
  }

  /**
   * Stops accepting adds and cancels delayed adds, but `get` still hands out the queued keys, including keys added
   * again during processing. Resolves true once no key is queued or processing, or false if that takes longer than
   * `deadlineMs` on the queue's clock. A later shutDown drops the queued keys, but this still waits for `done` of the
   * processing ones.
   */
  shutDownWithDrain(deadlineMs: number): Promise<boolean> {
    if (!this.isShuttingDown) {
      this.isShuttingDown = true;
      this.isDraining = true;
      this.cancelDelayedAdds();
      // A getter waits only while nothing is queued, and a draining queue hands out no key once nothing is queued.
      this.resolveGetters();
    }

    if (this.isDrained()) return Promise.resolve(true);
    if (!(deadlineMs > 0)) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: DrainWaiter = { resolve, deadlineTimer: undefined };
      waiter.deadlineTimer = this.clock.setTimeout(() => {
        this.drainWaiters.splice(this.drainWaiters.indexOf(waiter), 1);
        resolve(false);
      }, deadlineMs);
      this.drainWaiters.push(waiter);
    });
  }

  /** Hands `key` to the oldest pending getter, or queues it if there is none. */
  private enqueue(key: K): void {
    const getter = this.getters.shift();
    if (getter) {
      this.startProcessing(key);
      getter(key);
      return;
    }
    this.queue.push(key);
    this.metrics?.depth(this.queue.length);
  }

  private startProcessing(key: K): void {
    const nowMs = this.clock.now();
    this.dirty.delete(key);
    this.processing.add(key);
    this.startedAt.set(key, nowMs);

    const addedAt = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (addedAt !== undefined) this.metrics?.queueLatency((nowMs - addedAt) / 1000);
  }

  private cancelDelayedAdds(): void {
    for (const { timer } of this.delayed.values()) this.clock.clearTimeout(timer);
    this.delayed.clear();
  }

  private resolveGetters(): void {
    for (const getter of this.getters.splice(0)) getter(undefined);
  }

  private isDrained(): boolean {
    return this.processing.size === 0 && this.queue.length === 0;
  }

  private resolveDrainWaitersIfDrained(): void {
    if (!this.isShuttingDown || !this.isDrained()) return;
    for (const waiter of this.drainWaiters.splice(0)) {
      this.clock.clearTimeout(waiter.deadlineTimer);
      waiter.resolve(true);
    }
  }
}

/** FIFO with amortized O(1) shift, which Array.prototype.shift does not guarantee. */
class KeyFifo<K> {
  private items: K[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: K): void {
    this.items.push(item);
  }

  shift(): K | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
