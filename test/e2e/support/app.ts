// Helpers for e2e tests of the shared app: apply and read the SharedApp, read a tenant's EndpointSlice and the
// pods it should point at, and record every change of an EndpointSlice through a watch.
import { readFileSync } from "node:fs";
import * as k8s from "@kubernetes/client-node";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import type { SharedApp, SharedAppSpec } from "../../../src/api/generated.js";
import { endpointSliceName } from "../../../src/app/names.js";
import type { TestCluster } from "../../cluster/cluster.js";
import { eventually } from "./cluster.js";
import { group, version } from "./tenants.js";

export const platformNamespace = "tenant-platform";

export async function applySharedApp(cluster: TestCluster, spec: SharedAppSpec): Promise<void> {
  const manifest = { apiVersion: `${group}/${version}`, kind: "SharedApp", metadata: { name: "platform" }, spec };
  await cluster.kubectl(
    ["apply", "--server-side", "--force-conflicts", "-f", "-"],
    undefined,
    JSON.stringify(manifest),
  );
}

export async function readSharedApp(cluster: TestCluster): Promise<SharedApp | undefined> {
  const api = cluster.adminKubeConfig().makeApiClient(k8s.CustomObjectsApi);
  try {
    return (await api.getClusterCustomObject({ group, version, plural: "sharedapps", name: "platform" })) as SharedApp;
  } catch (error) {
    if (error instanceof k8s.ApiException && error.code === 404) return undefined;
    throw error;
  }
}

export async function deleteSharedApp(cluster: TestCluster): Promise<void> {
  await cluster.kubectl(["delete", "sharedapp", "platform", "--ignore-not-found"]);
}

/** Reads the tenant's EndpointSlice in `namespace`; returns undefined when there is none. */
export async function readSlice(cluster: TestCluster, namespace: string): Promise<k8s.V1EndpointSlice | undefined> {
  const discovery = cluster.adminKubeConfig().makeApiClient(k8s.DiscoveryV1Api);
  try {
    return await discovery.readNamespacedEndpointSlice({ name: endpointSliceName(namespace), namespace });
  } catch (error) {
    if (error instanceof k8s.ApiException && error.code === 404) return undefined;
    throw error;
  }
}

/** Sorted IPs of the ready endpoints of a slice. */
export function readyIps(slice: k8s.V1EndpointSlice | undefined): string[] {
  return (slice?.endpoints ?? [])
    .filter((endpoint) => endpoint.conditions?.ready)
    .flatMap((endpoint) => endpoint.addresses)
    .sort();
}

/** Sorted IPs of the Ready pods that match `labelSelector` in `namespace`. */
export async function readyPodIps(cluster: TestCluster, namespace: string, labelSelector: string): Promise<string[]> {
  const core = cluster.adminKubeConfig().makeApiClient(k8s.CoreV1Api);
  const pods = await core.listNamespacedPod({ namespace, labelSelector });
  return pods.items
    .filter((pod) => !pod.metadata?.deletionTimestamp && pod.status?.podIP)
    .filter((pod) =>
      pod.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True"),
    )
    .map((pod) => pod.status!.podIP!)
    .sort();
}

/** Waits until the slice in `namespace` has `version` and points exactly at the ready pods of `labelSelector`. */
export async function waitForSliceOn(
  cluster: TestCluster,
  namespace: string,
  sliceVersion: string,
  podNamespace: string,
  labelSelector: string,
  timeoutMs = 90_000,
): Promise<k8s.V1EndpointSlice> {
  return eventually(
    `EndpointSlice in ${namespace} on version ${sliceVersion} pods ${labelSelector}`,
    async () => {
      const slice = await readSlice(cluster, namespace);
      const expected = await readyPodIps(cluster, podNamespace, labelSelector);
      const ips = readyIps(slice);
      const matches =
        slice?.metadata?.labels?.["tenancy.dev/app-version"] === sliceVersion &&
        expected.length > 0 &&
        JSON.stringify(ips) === JSON.stringify(expected);
      if (matches) return slice;
      throw new Error(`slice ${slice?.metadata?.labels?.["tenancy.dev/app-version"]} ${ips} expected ${expected}`);
    },
    timeoutMs,
  );
}

/** One observed state of an EndpointSlice. */
export interface SliceEvent {
  type: string;
  version?: string;
  source?: string;
  readyIps: string[];
}

/** Records every watch event of the EndpointSlices in `namespace` until `stop` is called. */
export async function recordSlices(
  cluster: TestCluster,
  namespace: string,
): Promise<{ events: SliceEvent[]; stop: () => void }> {
  const events: SliceEvent[] = [];
  let stopped = false;
  const watch = new k8s.Watch(cluster.adminKubeConfig());
  const request = await watch.watch(
    `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
    { labelSelector: "kubernetes.io/service-name=app" },
    (type: string, slice: k8s.V1EndpointSlice) => {
      events.push({
        type,
        version: slice.metadata?.labels?.["tenancy.dev/app-version"],
        source: slice.metadata?.annotations?.["tenancy.dev/app-source"],
        readyIps: readyIps(slice),
      });
    },
    // A watch that ends before stop() is recorded, so that a test never misses a gap in what it saw.
    (error: unknown) => {
      if (!stopped) events.push({ type: `ENDED ${String(error ?? "")}`, readyIps: [] });
    },
  );
  return {
    events,
    stop: () => {
      stopped = true;
      request.abort();
    },
  };
}

/** Compiles docs/tenant-registry.schema.json into a validator for one lane's registry document. */
export function registryValidator(): ValidateFunction {
  const schema = JSON.parse(
    readFileSync(new URL("../../../docs/tenant-registry.schema.json", import.meta.url), "utf8"),
  );
  return new Ajv2020({ allErrors: true, strict: true }).compile(schema);
}
