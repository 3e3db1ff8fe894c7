// A list-then-watch cache of one resource type, built to avoid the faults of @kubernetes/client-node's informer.
//
// - It never stops: any error restarts the watch after an exponential backoff with jitter, and 410 Gone (or a
//   failed resume) leads to a fresh list.
// - `hasSynced()` turns true only after the first complete list is in the cache.
// - A relist compares the new list with the cache, so that objects created or deleted while disconnected are
//   delivered exactly once (one add, one delete); unchanged objects produce no event.
// - A periodic relist heals a watch that went silent without an error.
// - Cached objects are deeply frozen: handlers and readers can never mutate the cache by accident.
// - Handlers are called synchronously in event order; they should only enqueue keys.

import type { Logger } from "pino";
import { isGone, type KubeClient, type KubeObject, type ResourceType } from "./client.js";

export interface InformerHandlers<T> {
  onAdd?(object: T): void;
  onUpdate?(oldObject: T, newObject: T): void;
  onDelete?(object: T): void;
}

export interface InformerOptions {
  labelSelector?: string;
  namespace?: string;
  /** Interval of the healing relist in ms; 0 turns it off. Default 5 minutes. */
  relistIntervalMs?: number;
  /** Server-side watch timeout range in seconds; each watch picks a random value in it. */
  watchTimeoutSeconds?: [number, number];
  /** First and maximum retry delay in ms. */
  backoffMs?: [number, number];
}

const namespaceIndex = "namespace";

/** Returns the cache key of an object: `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(object: KubeObject): string {
  const namespace = object.metadata?.namespace;
  return namespace ? `${namespace}/${object.metadata!.name}` : object.metadata!.name!;
}

export class Informer<T extends KubeObject> {
  readonly type: ResourceType;
  private readonly client: KubeClient;
  private readonly options: Required<Omit<InformerOptions, "labelSelector" | "namespace">> & InformerOptions;
  private readonly log: Logger;
  private readonly handlers: InformerHandlers<T>[] = [];
  private store = new Map<string, T>();
  // Typed on KubeObject so that an Informer<T> stays assignable to Informer<KubeObject>.
  private readonly indexers = new Map<string, (object: KubeObject) => string[]>();
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  private resourceVersion: string | undefined;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private abort: AbortController | undefined;
  private running = false;
  private relistRequested = false;
  private relistTimer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  /** Counts lists, for tests and metrics. */
  listCount = 0;

  constructor(client: KubeClient, type: ResourceType, log: Logger, options: InformerOptions = {}) {
    this.client = client;
    this.type = type;
    this.options = {
      relistIntervalMs: 5 * 60_000,
      watchTimeoutSeconds: [300, 600],
      backoffMs: [200, 30_000],
      ...options,
    };
    this.log = log.child({ informer: type.plural, labelSelector: options.labelSelector });
    this.addIndex(namespaceIndex, (object) => (object.metadata?.namespace ? [object.metadata.namespace] : []));
  }

  addHandlers(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list is cached. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  /** Objects of one namespace, from the namespace index. */
  listInNamespace(namespace: string): T[] {
    return this.byIndex(namespaceIndex, namespace);
  }

  /**
   * Adds an index: `keysOf` returns the index values of an object. Reads by index cost the size of the result,
   * not of the cache, so per-tenant lookups stay cheap with thousands of tenants. Add indexes before start().
   */
  addIndex(name: string, keysOf: (object: T) => string[]): void {
    this.indexers.set(name, keysOf as (object: KubeObject) => string[]);
    this.indexes.set(name, new Map());
  }

  byIndex(name: string, value: string): T[] {
    const keys = this.indexes.get(name)?.get(value);
    if (!keys) return [];
    return [...keys].map((key) => this.store.get(key)!).filter(Boolean);
  }

  private indexObject(key: string, object: T | undefined, old: T | undefined): void {
    for (const [name, keysOf] of this.indexers) {
      const index = this.indexes.get(name)!;
      for (const value of old ? keysOf(old) : []) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
      for (const value of object ? keysOf(object) : []) {
        let keys = index.get(value);
        if (!keys) index.set(value, (keys = new Set()));
        keys.add(key);
      }
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.log.info("informer started");
    this.loop = this.run();
    if (this.options.relistIntervalMs > 0) {
      this.relistTimer = setInterval(() => this.requestRelist("periodic"), this.options.relistIntervalMs);
      this.relistTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.relistTimer);
    this.abort?.abort();
    await this.loop;
    this.log.info("informer stopped");
  }

  /** Ends the current watch and lists again; the relist delivers whatever changed meanwhile. */
  requestRelist(reason: string): void {
    this.log.debug({ reason }, "relist requested");
    this.relistRequested = true;
    this.abort?.abort();
  }

  private async run(): Promise<void> {
    let failures = 0;
    let needList = true;
    while (this.running) {
      try {
        if (needList || this.relistRequested) {
          this.relistRequested = false;
          await this.relist();
          needList = false;
        }
        await this.watchOnce();
        failures = 0;
      } catch (error) {
        if (!this.running) break;
        if (this.relistRequested) continue;
        if (isGone(error)) {
          this.log.info({ resourceVersion: this.resourceVersion }, "watch expired (410 Gone), relisting");
          needList = true;
          continue;
        }
        failures++;
        // After a failure the resume may itself be rejected with 410; a relist after the second failure in a
        // row makes sure a cache never stays stale behind a server that forgot our resourceVersion.
        if (failures >= 2) needList = true;
        const delay = backoffDelay(failures, this.options.backoffMs);
        this.log.warn({ err: error, failures, retryInMs: Math.round(delay) }, "watch failed, retrying");
        await sleep(delay);
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.client.listAll<T>(this.type, {
      namespace: this.options.namespace,
      labelSelector: this.options.labelSelector,
    });
    this.listCount++;
    const fresh = new Map<string, T>();
    for (const item of list.items) {
      const object = deepFreeze({ ...item, apiVersion: item.apiVersion, kind: this.type.kind }) as T;
      fresh.set(objectKey(object), object);
    }

    const previous = this.store;
    this.store = fresh;
    for (const index of this.indexes.values()) index.clear();
    for (const [key, object] of fresh) this.indexObject(key, object, undefined);
    this.resourceVersion = list.metadata.resourceVersion;
    for (const [key, object] of fresh) {
      const old = previous.get(key);
      if (!old) this.emit("add", object);
      else if (old.metadata?.resourceVersion !== object.metadata?.resourceVersion) this.emit("update", object, old);
    }
    for (const [key, old] of previous) {
      if (!fresh.has(key)) this.emit("delete", old);
    }

    if (!this.synced) {
      this.synced = true;
      this.log.info({ objects: fresh.size }, "informer synced");
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
  }

  private async watchOnce(): Promise<void> {
    // stop() may have run while the list was in flight; a watch started now would never be aborted.
    if (!this.running) return;
    this.abort = new AbortController();
    const [min, max] = this.options.watchTimeoutSeconds;
    await this.client.watch<T>(
      this.type,
      {
        namespace: this.options.namespace,
        labelSelector: this.options.labelSelector,
        resourceVersion: this.resourceVersion,
        timeoutSeconds: Math.round(min + Math.random() * (max - min)),
        signal: this.abort.signal,
      },
      (event) => this.handleEvent(event.type, event.object),
    );
  }

  private handleEvent(type: string, raw: T): void {
    this.resourceVersion = raw.metadata?.resourceVersion ?? this.resourceVersion;
    if (type === "BOOKMARK") return;

    const object = deepFreeze({ ...raw, apiVersion: raw.apiVersion, kind: this.type.kind }) as T;
    const key = objectKey(object);
    const old = this.store.get(key);
    if (type === "DELETED") {
      if (!old) return;
      this.store.delete(key);
      this.indexObject(key, undefined, old);
      this.emit("delete", object);
      return;
    }
    this.store.set(key, object);
    this.indexObject(key, object, old);
    if (!old) this.emit("add", object);
    else if (old.metadata?.resourceVersion !== object.metadata?.resourceVersion) this.emit("update", object, old);
  }

  private emit(kind: "add" | "update" | "delete", object: T, old?: T): void {
    for (const handlers of this.handlers) {
      try {
        if (kind === "add") handlers.onAdd?.(object);
        else if (kind === "update") handlers.onUpdate?.(old!, object);
        else handlers.onDelete?.(object);
      } catch (error) {
        this.log.error({ err: error, event: kind, key: objectKey(object) }, "informer handler failed");
      }
    }
  }
}

/** Exponential backoff with full jitter in [delay/2, delay]. */
export function backoffDelay(failures: number, [base, max]: [number, number]): number {
  const delay = Math.min(max, base * 2 ** Math.max(0, failures - 1));
  return delay / 2 + (Math.random() * delay) / 2;
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
