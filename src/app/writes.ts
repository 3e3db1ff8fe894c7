// The writes the shared-app code makes beyond plain server-side apply: Deployments applied only when their
// desired body changed, replica counts set through the scale subresource, and deletes guarded by UID.

import { createHash } from "node:crypto";
import type { V1Deployment } from "@kubernetes/client-node";
import { applyIfChanged } from "../runtime/apply.js";
import type { KubeClient, KubeObject, ResourceType } from "../runtime/client.js";
import { appliedHashAnnotation } from "./names.js";

/**
 * Server-side applies a Deployment unless the cached one was applied from the same body. The body's hash is kept
 * in an annotation, because the API server rewrites quantities and defaults fields, so that comparing the cached
 * object with the desired one would find a difference every time.
 */
export async function applyDeployment(
  client: KubeClient,
  type: ResourceType,
  desired: V1Deployment,
  cached: V1Deployment | undefined,
): Promise<V1Deployment | undefined> {
  const hash = createHash("sha256").update(JSON.stringify(desired)).digest("hex").slice(0, 16);
  if (cached?.metadata?.annotations?.[appliedHashAnnotation] === hash) return undefined;
  const body: V1Deployment = {
    ...desired,
    metadata: { ...desired.metadata, annotations: { ...desired.metadata?.annotations, [appliedHashAnnotation]: hash } },
  };
  return client.apply(type, body as KubeObject) as Promise<V1Deployment>;
}

/** Applies any other object unless the cache already contains every desired field. */
export async function applyObject<T extends KubeObject>(
  client: KubeClient,
  type: ResourceType,
  desired: T,
  cached: T | undefined,
): Promise<void> {
  await applyIfChanged(client, type, desired, cached);
}

/**
 * Sets spec.replicas through the scale subresource with a merge patch. The operator's server-side applies never
 * include replicas, so a count set here (or by an autoscaler, or by suspend) is never reset by the next apply.
 */
export async function scaleTo(
  client: KubeClient,
  type: ResourceType,
  namespace: string,
  name: string,
  replicas: number,
): Promise<void> {
  await client.request("PATCH", `${objectPath(type, namespace, name)}/scale`, {
    body: { spec: { replicas } },
    contentType: "application/merge-patch+json",
    query: { fieldManager: client.fieldManager },
  });
}

/** Deletes an object only if its UID still matches the cached one. */
export async function deleteCached(client: KubeClient, type: ResourceType, object: KubeObject): Promise<boolean> {
  return client.delete(type, object.metadata!.name!, object.metadata?.namespace, { uid: object.metadata?.uid });
}

export function objectPath(type: ResourceType, namespace: string, name: string): string {
  const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  return `${base}/namespaces/${encodeURIComponent(namespace)}/${type.plural}/${encodeURIComponent(name)}`;
}
