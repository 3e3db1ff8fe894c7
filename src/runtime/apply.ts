// Helpers for the operator's writes: skip what would change nothing, write status only when it changed, and
// edit finalizers without clobbering anyone else's.

import { isDeepStrictEqual } from "node:util";
import { isNotFound, type KubeClient, type KubeObject, type ResourceType } from "./client.js";

/**
 * Returns whether `actual` already contains every field of `desired` with the same value. Fields that only
 * `actual` has (server defaults, other managers' fields, status) are ignored; lists must match in length and
 * each element is compared the same way. A server-side apply of `desired` onto `actual` is then a no-op, so the
 * request can be skipped: a no-op PATCH still costs a write round trip and an audit event.
 */
export function containsDesired(actual: unknown, desired: unknown): boolean {
  if (desired === undefined) return true;
  if (desired === null || typeof desired !== "object") return actual === desired;
  if (Array.isArray(desired)) {
    if (!Array.isArray(actual) || actual.length !== desired.length) return false;
    return desired.every((item, index) => containsDesired(actual[index], item));
  }
  if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return false;
  const actualRecord = actual as Record<string, unknown>;
  return Object.entries(desired as Record<string, unknown>).every(([key, value]) =>
    containsDesired(actualRecord[key], value),
  );
}

/**
 * Server-side applies `desired` unless `cached` already contains it. Returns the applied object, or undefined
 * when the request was skipped.
 */
export async function applyIfChanged<T extends KubeObject>(
  client: KubeClient,
  type: ResourceType,
  desired: T,
  cached: T | undefined,
): Promise<T | undefined> {
  const { apiVersion: _apiVersion, kind: _kind, ...comparable } = desired;
  if (cached && containsDesired(cached, comparable)) return undefined;
  return client.apply(type, desired);
}

/**
 * Writes `status` through the status subresource when it differs from the object's current status. The write
 * carries the cached resourceVersion, so a stale cache ends in a 409 conflict (retried with fresh state) rather
 * than overwriting a newer status. Returns whether a write was made.
 */
export async function updateStatusIfChanged<T extends KubeObject & { status?: unknown }>(
  client: KubeClient,
  type: ResourceType,
  object: T,
  status: NonNullable<T["status"]>,
  written?: WrittenStatuses,
): Promise<boolean> {
  if (isDeepStrictEqual(normalize(object.status), normalize(status))) return false;
  if (written?.alreadyWritten(object, status)) return false;
  const updated = await client.replaceStatus(type, { ...object, status });
  written?.remember(updated, status);
  return true;
}

/**
 * Remembers the last status this process wrote for each object, so that a reconcile running on a cache that
 * has not yet seen that write does not send the same status again with a stale resourceVersion (a certain 409).
 */
export class WrittenStatuses {
  private readonly byKey = new Map<string, { resourceVersion: string; status: unknown }>();

  alreadyWritten(object: KubeObject, status: unknown): boolean {
    const last = this.byKey.get(keyOf(object));
    if (!last) return false;
    // The cache is behind our own write only if its resourceVersion is older; etcd revisions are integers.
    const cached = Number(object.metadata?.resourceVersion);
    const ours = Number(last.resourceVersion);
    const cacheIsBehind = Number.isInteger(cached) && Number.isInteger(ours) && cached < ours;
    return cacheIsBehind && isDeepStrictEqual(normalize(last.status), normalize(status));
  }

  remember(object: KubeObject, status: unknown): void {
    this.byKey.set(keyOf(object), { resourceVersion: object.metadata?.resourceVersion ?? "", status });
  }

  forget(key: string): void {
    this.byKey.delete(key);
  }
}

function keyOf(object: KubeObject): string {
  return `${object.metadata?.namespace ?? ""}/${object.metadata?.name}`;
}

/**
 * Adds `finalizer` with a JSON patch guarded by resourceVersion, so other finalizers are never lost. Returns the
 * updated object, whose resourceVersion later writes in the same reconcile need.
 */
export async function addFinalizer<T extends KubeObject>(
  client: KubeClient,
  type: ResourceType,
  object: T,
  finalizer: string,
): Promise<T> {
  const finalizers = object.metadata?.finalizers ?? [];
  if (finalizers.includes(finalizer)) return object;
  return client.patch<T>(
    type,
    object.metadata!.name!,
    object.metadata?.namespace,
    [
      { op: "test", path: "/metadata/resourceVersion", value: object.metadata!.resourceVersion },
      finalizers.length === 0
        ? { op: "add", path: "/metadata/finalizers", value: [finalizer] }
        : { op: "add", path: "/metadata/finalizers/-", value: finalizer },
    ],
    "application/json-patch+json",
  );
}

/** Removes `finalizer` with a JSON patch guarded by resourceVersion and by the list entry itself. */
export async function removeFinalizer(
  client: KubeClient,
  type: ResourceType,
  object: KubeObject,
  finalizer: string,
): Promise<void> {
  const index = (object.metadata?.finalizers ?? []).indexOf(finalizer);
  if (index < 0) return;
  try {
    await client.patch(
      type,
      object.metadata!.name!,
      object.metadata?.namespace,
      [
        { op: "test", path: "/metadata/resourceVersion", value: object.metadata!.resourceVersion },
        { op: "test", path: `/metadata/finalizers/${index}`, value: finalizer },
        { op: "remove", path: `/metadata/finalizers/${index}` },
      ],
      "application/json-patch+json",
    );
  } catch (error) {
    // Already gone: nothing is left to remove.
    if (!isNotFound(error)) throw error;
  }
}

// JSON round trip drops undefined fields, so that `{a: undefined}` equals `{}`.
function normalize(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}
