// A controller: N workers taking keys from one work queue and calling a reconcile function.
//
// Informer events only enqueue keys; the reconcile function reads the cache and makes the cluster match the
// desired state (level-triggered). `handleResult` is the one place that turns the outcome of a reconcile into
// queue actions and metrics, as controller-runtime's reconcileHandler does.

import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { isConflict, type KubeObject } from "./client.js";
import { objectKey, type Informer } from "./informer.js";
import {
  ReconcileResult,
  activeWorkers,
  initControllerMetrics,
  reconcileErrors,
  reconcileTime,
  reconcileTotal,
  workqueueRetries,
} from "./metrics.js";
import { WorkQueue } from "./workqueue.js";
import { prometheusQueueMetrics } from "./workqueueMetrics.js";

export interface ReconcileOutcome {
  /** Reconcile again after the per-key backoff. */
  requeue?: boolean;
  /** Reconcile again after this many ms; takes precedence over `requeue`. */
  requeueAfterMs?: number;
}

export interface ReconcileContext {
  log: Logger;
  reconcileId: string;
}

export type Reconciler = (key: string, context: ReconcileContext) => Promise<ReconcileOutcome | void>;

export interface ControllerOptions {
  name: string;
  workers: number;
  reconcile: Reconciler;
  log: Logger;
  queue?: WorkQueue;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly workers: number;
  private readonly reconcile: Reconciler;
  private readonly log: Logger;
  private running: Promise<void>[] = [];
  private active = 0;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.workers = options.workers;
    this.reconcile = options.reconcile;
    this.log = options.log.child({ controller: options.name });
    this.queue =
      options.queue ??
      new WorkQueue({ name: options.name, metrics: prometheusQueueMetrics(options.name, options.name) });
    initControllerMetrics(options.name, options.workers);
  }

  /** Enqueues the key of every object the informer delivers. */
  watchPrimary<T extends KubeObject>(informer: Informer<T>): void {
    this.watch(informer, (object) => [objectKey(object)]);
  }

  /** Enqueues the keys that `map` returns for each object the informer delivers (owned objects to owners). */
  watch<T extends KubeObject>(informer: Informer<T>, map: (object: T) => string[]): void {
    const enqueue = (object: T): void => {
      for (const key of map(object)) this.queue.add(key);
    };
    informer.addHandlers({
      onAdd: enqueue,
      onUpdate: (oldObject, newObject) => {
        enqueue(oldObject);
        enqueue(newObject);
      },
      onDelete: enqueue,
    });
  }

  start(): void {
    this.log.info({ workers: this.workers }, "controller started");
    for (let index = 0; index < this.workers; index++) this.running.push(this.work());
  }

  /** Stops taking new keys and waits up to `deadlineMs` for reconciles in flight. */
  async stop(deadlineMs = 30_000): Promise<void> {
    if (this.running.length === 0) {
      // Never started (a standby replica): nothing is in flight, and queued keys need no worker.
      this.queue.shutDown();
      return;
    }
    const drained = await this.queue.shutDownWithDrain(deadlineMs);
    if (!drained) this.log.warn({ deadlineMs }, "reconciles still running at shutdown deadline");
    else await Promise.all(this.running);
    this.log.info("controller stopped");
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.active++;
      activeWorkers.set({ controller: this.name }, this.active);
      try {
        await this.process(key);
      } finally {
        this.active--;
        activeWorkers.set({ controller: this.name }, this.active);
        this.queue.done(key);
      }
    }
  }

  private async process(key: string): Promise<void> {
    const reconcileId = randomUUID();
    const log = this.log.child({ key, reconcileId });
    const started = performance.now();
    let outcome: ReconcileOutcome | void = undefined;
    let failure: unknown;
    try {
      outcome = await this.reconcile(key, { log, reconcileId });
    } catch (error) {
      failure = error;
    }
    reconcileTime.observe({ controller: this.name }, (performance.now() - started) / 1000);
    this.handleResult(key, log, outcome, failure);
  }

  private handleResult(key: string, log: Logger, outcome: ReconcileOutcome | void, failure: unknown): void {
    const controller = this.name;
    switch (true) {
      case failure !== undefined && isConflict(failure):
        // Someone changed the object since the cache saw it: retry with fresh state; not an error.
        log.debug({ err: failure }, "conflict, retrying with fresh state");
        reconcileTotal.inc({ controller, result: ReconcileResult.requeue });
        workqueueRetries.inc({ name: controller, controller });
        this.queue.addRateLimited(key);
        return;
      case failure !== undefined:
        log.error({ err: failure, retries: this.queue.numRequeues(key) }, "reconcile failed");
        reconcileTotal.inc({ controller, result: ReconcileResult.error });
        reconcileErrors.inc({ controller });
        this.queue.addRateLimited(key);
        return;
      case outcome?.requeueAfterMs !== undefined:
        reconcileTotal.inc({ controller, result: ReconcileResult.requeueAfter });
        this.queue.forget(key);
        this.queue.addAfter(key, outcome!.requeueAfterMs!);
        return;
      case outcome?.requeue === true:
        reconcileTotal.inc({ controller, result: ReconcileResult.requeue });
        this.queue.addRateLimited(key);
        return;
      default:
        reconcileTotal.inc({ controller, result: ReconcileResult.success });
        this.queue.forget(key);
    }
  }
}
