// Builds what a tenant reaches the app through, in each of its namespaces: a Service named `app` without a
// selector, and its EndpointSlice, which the operator points at the ready pods serving the tenant (a lane or the
// tenant's dedicated instance). The Service never changes when the tenant moves, so its address stays the same.

import type { V1EndpointSlice, V1Service } from "@kubernetes/client-node";
import type { TenantContext } from "../../tenant/desired/types.js";
import { ownershipLabels } from "../../tenant/labels.js";
import {
  components,
  componentLabel,
  endpointSliceManagedByLabel,
  endpointSliceName,
  portName,
  serviceNameLabel,
  sourceAnnotation,
  tenantServiceName,
  tenantServicePort,
  versionLabel,
} from "../names.js";

/** The source of the pods that serve a tenant: a version's lane, or the tenant's dedicated instance at a version. */
export interface ServingSource {
  kind: "lane" | "dedicated";
  version: string;
}

/** A ready pod that can serve, as the EndpointSlice lists it. */
export interface ServingPod {
  name: string;
  namespace: string;
  uid: string;
  ip: string;
  nodeName?: string;
}

export function buildTenantServices(context: TenantContext, appPort: number): V1Service[] {
  return context.namespaces.map((namespace) => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: tenantServiceName, namespace, labels: tenantAppLabels(context) },
    spec: {
      type: "ClusterIP",
      ports: [{ name: portName, port: tenantServicePort, targetPort: appPort, protocol: "TCP" }],
    },
  }));
}

/**
 * Builds the EndpointSlice of the `app` Service in each namespace, listing `pods` (sorted by namespace and name,
 * so that an unchanged set gives an unchanged object) and recording `source` in its labels and annotations.
 */
export function buildTenantEndpointSlices(
  context: TenantContext,
  appPort: number,
  source: ServingSource,
  pods: readonly ServingPod[],
): V1EndpointSlice[] {
  const sorted = [...pods].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  return context.namespaces.map((namespace) => ({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: endpointSliceName(namespace),
      namespace,
      labels: {
        ...tenantAppLabels(context),
        [serviceNameLabel]: tenantServiceName,
        [endpointSliceManagedByLabel]: "tenant-operator",
        [versionLabel]: source.version,
      },
      annotations: { [sourceAnnotation]: source.kind },
    },
    addressType: "IPv4",
    ports: [{ name: portName, port: appPort, protocol: "TCP" }],
    endpoints: sorted.map((pod) => ({
      addresses: [pod.ip],
      conditions: { ready: true, serving: true, terminating: false },
      ...(pod.nodeName ? { nodeName: pod.nodeName } : {}),
      targetRef: { kind: "Pod", namespace: pod.namespace, name: pod.name, uid: pod.uid },
    })),
  }));
}

function tenantAppLabels(context: TenantContext): Record<string, string> {
  return { ...ownershipLabels(context.tenant, context.tenantId), [componentLabel]: components.tenant };
}
