// A small Kubernetes REST client for the operator's own requests.
//
// It takes credentials and the server address from @kubernetes/client-node's KubeConfig and sends requests over
// one keep-alive HTTPS agent, so that the operator controls what the generated clients hide: server-side apply
// with one field manager, streamed watches, client-go's request metrics, and a write gate that leader election
// closes the moment this replica may no longer write.

import http from "node:http";
import https from "node:https";
import type * as k8s from "@kubernetes/client-node";
import { restClientRequestDuration, restClientRequests } from "./metrics.js";

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string | Date;
  creationTimestamp?: string | Date;
  ownerReferences?: unknown[];
  generateName?: string;
}

/** Any Kubernetes object as it travels over the wire. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface KubeList<T> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** The API location of one kind of object. */
export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export interface WatchEvent<T> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

/** An error response from the API server, with its HTTP status and the server's Status reason. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Thrown instead of sending a write while this replica does not hold the leader Lease. */
export class WriteGateClosedError extends Error {
  constructor(what: string) {
    super(`refused to ${what}: this replica is not the leader`);
    this.name = "WriteGateClosedError";
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}

export function isConflict(error: unknown): boolean {
  return error instanceof ApiError && error.status === 409;
}

export function isGone(error: unknown): boolean {
  return error instanceof ApiError && error.status === 410;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  limit?: number;
  continue?: string;
}

export interface WatchOptions extends ListOptions {
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

const writeVerbs = new Set(["POST", "PUT", "PATCH", "DELETE"]);

// Idle time after which a request without a response is abandoned and fails; it is retried by its caller.
const requestTimeoutMs = 30_000;

// The pid distinguishes replicas in the API server's audit log, where they all share one service account.
const userAgent = `tenant-operator/0.1.0 (node ${process.version}; pid ${process.pid})`;

export class KubeClient {
  readonly server: URL;
  readonly fieldManager: string;
  private readonly agent: https.Agent | http.Agent;
  private readonly kubeConfig: k8s.KubeConfig;
  private writeGate: () => boolean = () => true;
  private authOptions: { value: https.RequestOptions; expires: number } | undefined;

  constructor(kubeConfig: k8s.KubeConfig, options: { fieldManager: string; maxSockets?: number }) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig has no current cluster; set current-context");
    this.kubeConfig = kubeConfig;
    this.server = new URL(cluster.server);
    this.fieldManager = options.fieldManager;
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
    this.agent = this.server.protocol === "https:" ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  /** Closes the kept-alive connections, so that a process or test can exit. */
  close(): void {
    this.agent.destroy();
  }

  /** Installs the check that every write must pass; leader election closes it when the Lease is lost. */
  setWriteGate(gate: () => boolean): void {
    this.writeGate = gate;
  }

  async get<T extends KubeObject>(type: ResourceType, name: string, namespace?: string): Promise<T | undefined> {
    try {
      return await this.request<T>("GET", objectPath(type, namespace, name));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async list<T extends KubeObject>(type: ResourceType, options: ListOptions = {}): Promise<KubeList<T>> {
    return this.request<KubeList<T>>("GET", collectionPath(type, options.namespace), {
      query: {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        resourceVersion: options.resourceVersion,
        limit: options.limit,
        continue: options.continue,
      },
    });
  }

  /** Lists every page and returns the items with the resourceVersion of the whole list. */
  async listAll<T extends KubeObject>(type: ResourceType, options: ListOptions = {}): Promise<KubeList<T>> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.list<T>(type, { ...options, limit: options.limit ?? 500, continue: continueToken });
      items.push(...page.items);
      continueToken = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion;
    } while (continueToken);
    return { metadata: { resourceVersion }, items };
  }

  async create<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
    return this.request<T>("POST", collectionPath(type, object.metadata?.namespace), {
      body: object,
      query: { fieldManager: this.fieldManager },
    });
  }

  /** Server-side apply of `object` with the operator's field manager, taking over conflicting fields. */
  async apply<T extends KubeObject>(type: ResourceType, object: T, subresource?: "status"): Promise<T> {
    const name = object.metadata?.name;
    if (!name) throw new Error(`cannot apply a ${type.kind} without metadata.name`);
    return this.request<T>("PATCH", objectPath(type, object.metadata?.namespace, name, subresource), {
      body: { apiVersion: apiVersionOf(type), kind: type.kind, ...object },
      contentType: "application/apply-patch+yaml",
      query: { fieldManager: this.fieldManager, force: true },
    });
  }

  async patch<T extends KubeObject>(
    type: ResourceType,
    name: string,
    namespace: string | undefined,
    patch: unknown,
    contentType: "application/merge-patch+json" | "application/json-patch+json",
    subresource?: "status",
  ): Promise<T> {
    return this.request<T>("PATCH", objectPath(type, namespace, name, subresource), {
      body: patch,
      contentType,
      query: { fieldManager: this.fieldManager },
    });
  }

  async replaceStatus<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
    return this.request<T>("PUT", objectPath(type, object.metadata?.namespace, object.metadata!.name!, "status"), {
      body: object,
      query: { fieldManager: this.fieldManager },
    });
  }

  /**
   * Deletes one object, only if its UID still matches `uid` when given, so that an object recreated under the
   * same name by someone else is never deleted. Returns false when the object was already gone.
   */
  async delete(
    type: ResourceType,
    name: string,
    namespace?: string,
    options: { uid?: string; propagationPolicy?: "Background" | "Foreground" | "Orphan" } = {},
  ): Promise<boolean> {
    const body = {
      apiVersion: "v1",
      kind: "DeleteOptions",
      propagationPolicy: options.propagationPolicy ?? "Background",
      ...(options.uid ? { preconditions: { uid: options.uid } } : {}),
    };
    try {
      await this.request("DELETE", objectPath(type, namespace, name), { body });
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /** Creates an object at an arbitrary path (SubjectAccessReview, TokenReview). */
  async post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("POST", path, { body });
  }

  /**
   * Streams watch events to `onEvent` until the server ends the watch (resolves), the signal aborts (resolves),
   * or the connection fails (rejects). An ERROR event is turned into an ApiError (410 for expired versions).
   */
  async watch<T extends KubeObject>(
    type: ResourceType,
    options: WatchOptions,
    onEvent: (event: WatchEvent<T>) => void,
  ): Promise<void> {
    const response = await this.send("GET", collectionPath(type, options.namespace), {
      query: {
        watch: 1,
        allowWatchBookmarks: true,
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        resourceVersion: options.resourceVersion,
        timeoutSeconds: options.timeoutSeconds,
      },
      signal: options.signal,
    });
    if (response.statusCode !== 200) throw await errorFrom(response);

    await new Promise<void>((resolve, reject) => {
      let buffered = "";
      let failed = false;
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        buffered += chunk;
        let newline: number;
        while (!failed && (newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (!line.trim()) continue;
          const event = JSON.parse(line) as WatchEvent<T>;
          if (event.type === "ERROR") {
            failed = true;
            const status = event.object as { code?: number; reason?: string; message?: string };
            response.destroy();
            reject(new ApiError(status.code ?? 500, status.reason ?? "", status.message ?? "watch error"));
            return;
          }
          onEvent(event);
        }
      });
      response.on("end", () => resolve());
      response.on("error", (error) => (options.signal?.aborted ? resolve() : reject(error)));
      response.on("close", () => resolve());
    });
  }

  // Credentials are read again every minute, so that a rotated service-account token is picked up.
  private async currentAuthOptions(): Promise<https.RequestOptions> {
    if (this.authOptions && this.authOptions.expires > Date.now()) return this.authOptions.value;
    const value: https.RequestOptions = { headers: {} };
    await this.kubeConfig.applyToHTTPSOptions(value);
    this.authOptions = { value, expires: Date.now() + 60_000 };
    return value;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    const text = await readBody(response);
    if (response.statusCode! >= 400) throw errorFromText(response.statusCode!, text, method, path);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<http.IncomingMessage> {
    if (writeVerbs.has(method) && !this.writeGate()) throw new WriteGateClosedError(`${method} ${path}`);

    const url = new URL(path, this.server);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== "") url.searchParams.set(key, String(value));
    }
    const auth = await this.currentAuthOptions();
    const requestOptions: https.RequestOptions = {
      ...auth,
      method,
      agent: this.agent,
      headers: { ...auth.headers, accept: "application/json", "user-agent": userAgent },
    };
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (body !== undefined) {
      requestOptions.headers = {
        ...requestOptions.headers,
        "content-type": options.contentType ?? "application/json",
        "content-length": Buffer.byteLength(body),
      };
    }

    const started = performance.now();
    const host = this.server.host;
    const transport = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const request = transport.request(url, { ...requestOptions, signal: options.signal }, (response) => {
        restClientRequests.inc({ code: String(response.statusCode), method, host });
        restClientRequestDuration.observe({ verb: method, host }, (performance.now() - started) / 1000);
        resolve(response);
      });
      request.on("error", (error) => {
        restClientRequests.inc({ code: "<error>", method, host });
        reject(error);
      });
      // A request on a connection that went dead would otherwise wait for the operating system's TCP timeout,
      // holding a worker for minutes. Watches are exempt: they end by their server-side timeout or a relist.
      if (!options.query?.watch) {
        request.setTimeout(requestTimeoutMs, () =>
          request.destroy(new Error(`${method} ${path} timed out after ${requestTimeoutMs / 1000} s`)),
        );
      }
      request.end(body);
    });
  }
}

export function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

function collectionPath(type: ResourceType, namespace?: string): string {
  const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  if (type.namespaced && namespace) return `${base}/namespaces/${encodeURIComponent(namespace)}/${type.plural}`;
  return `${base}/${type.plural}`;
}

function objectPath(type: ResourceType, namespace: string | undefined, name: string, subresource?: string): string {
  if (type.namespaced && !namespace) throw new Error(`${type.kind} "${name}" needs a namespace`);
  const path = `${collectionPath(type, namespace)}/${encodeURIComponent(name)}`;
  return subresource ? `${path}/${subresource}` : path;
}

function readBody(response: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on("data", (chunk: Buffer) => chunks.push(chunk));
    response.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    response.on("error", reject);
  });
}

async function errorFrom(response: http.IncomingMessage): Promise<ApiError> {
  return errorFromText(response.statusCode ?? 0, await readBody(response), "GET", "watch");
}

function errorFromText(status: number, text: string, method: string, path: string): ApiError {
  try {
    const body = JSON.parse(text) as { reason?: string; message?: string; details?: unknown };
    return new ApiError(
      status,
      body.reason ?? "",
      body.message ?? `${method} ${path} returned ${status}`,
      body.details,
    );
  } catch {
    return new ApiError(status, "", `${method} ${path} returned ${status}: ${text.slice(0, 200)}`);
  }
}
