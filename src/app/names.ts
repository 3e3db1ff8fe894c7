// Names, labels and annotations of the shared application's objects, defined once.
//
// Platform objects (lanes, their Services and PodDisruptionBudgets, the registry) carry the managed-by label and
// `tenancy.dev/component: shared-app`; objects in tenant namespaces carry the three ownership labels as well, with
// the component `tenant-app` (the `app` Service and its EndpointSlice) or `dedicated-app` (a dedicated instance).

import { createHash } from "node:crypto";
import { managedByLabel, managedByValue } from "../tenant/labels.js";

/** The one SharedApp the operator serves; the CRD rejects any other name. */
export const sharedAppName = "platform";

export const componentLabel = "tenancy.dev/component";
export const components = {
  shared: "shared-app",
  tenant: "tenant-app",
  dedicated: "dedicated-app",
} as const;

/** Version of the pods a lane or dedicated instance runs; on pods, Deployments and the tenant's EndpointSlice. */
export const versionLabel = "tenancy.dev/app-version";

/** Which pods an EndpointSlice points at: `lane` or `dedicated`. */
export const sourceAnnotation = "tenancy.dev/app-source";

/** Hash of the Deployment body last applied, so that an unchanged Deployment is not applied again. */
export const appliedHashAnnotation = "tenancy.dev/applied-hash";

/** Replica count of a tenant workload before suspension; resume restores it and removes the annotation. */
export const suspendedReplicasAnnotation = "tenancy.dev/suspended-replicas";

export const serviceNameLabel = "kubernetes.io/service-name";
export const endpointSliceManagedByLabel = "endpointslice.kubernetes.io/managed-by";

/** Name of the Service (and of the port) through which a tenant reaches the app in each of its namespaces. */
export const tenantServiceName = "app";
export const tenantServicePort = 80;
export const portName = "http";

export const dedicatedDeploymentName = "app-dedicated";
export const configMapName = "app-config";
export const registryConfigMapName = "tenant-registry";
export const configMountPath = "/etc/app/config";
export const registryMountPath = "/etc/app/registry";

/** Label selector of the pods the operator routes tenants to: lane pods and dedicated instance pods. */
export const appPodSelector = `${managedByLabel}=${managedByValue},${componentLabel} in (${components.shared},${components.dedicated})`;

/** Lower-cases a version and replaces '.' and '_' with '-', so that it fits in a DNS label. */
export function versionDnsName(version: string): string {
  return version.toLowerCase().replace(/[._]/g, "-");
}

/** Name of the lane Deployment, Service and PodDisruptionBudget of one version: `app-<version-dns>`. */
export function laneName(version: string): string {
  return `app-${versionDnsName(version)}`;
}

/** Name of the tenant's EndpointSlice in `namespace`: `app-` and 5 hex characters of the namespace's hash. */
export function endpointSliceName(namespace: string): string {
  return `app-${createHash("sha256").update(namespace).digest("hex").slice(0, 5)}`;
}

/** Key of one lane's tenant list in the registry ConfigMap. */
export function registryKey(version: string): string {
  return `${version}.json`;
}

/** Labels of platform objects. */
export function platformLabels(): Record<string, string> {
  return { [managedByLabel]: managedByValue, [componentLabel]: components.shared };
}
