// The labels and annotations that mark what the operator owns and carry per-tenant settings to admission.
//
// Only objects with all three ownership labels, matching the Tenant being reconciled, are ever changed or
// pruned. Admission policies stop tenant users from setting or changing them.

import { createHash } from "node:crypto";

export const managedByLabel = "app.kubernetes.io/managed-by";
export const managedByValue = "tenant-operator";
export const tenantLabel = "tenancy.dev/tenant";
export const tenantIdLabel = "tenancy.dev/tenant-id";
export const namespaceNameLabel = "kubernetes.io/metadata.name";
export const poolLabel = "tenancy.dev/pool";

/** Label selector for everything the operator manages, used by its informers. */
export const managedSelector = `${managedByLabel}=${managedByValue}`;

/** Namespace labels that settle what the admission policies allow in that namespace. */
export const settingLabels = {
  allowNodePort: "tenancy.dev/allow-node-port",
  allowLoadBalancer: "tenancy.dev/allow-load-balancer",
  allowExternalIPs: "tenancy.dev/allow-external-ips",
  suspended: "tenancy.dev/suspended",
} as const;

/** Namespace annotations read by admission (ours and the PodNodeSelector and PodTolerationRestriction plugins). */
export const settingAnnotations = {
  storageClasses: "tenancy.dev/storage-classes",
  priorityClasses: "tenancy.dev/priority-classes",
  nodeSelector: "scheduler.alpha.kubernetes.io/node-selector",
  defaultTolerations: "scheduler.alpha.kubernetes.io/defaultTolerations",
  tolerationsWhitelist: "scheduler.alpha.kubernetes.io/tolerationsWhitelist",
} as const;

/** Tenant annotation by which a platform engineer adopts namespaces left by earlier tenants of the same name. */
export const adoptAnnotation = "tenancy.dev/adopt-tenant-ids";

export const tenantFinalizer = "tenancy.dev/finalizer";

/**
 * Derives the tenant id from the Tenant's UID: 12 hex characters of its SHA-256, DNS-safe and fixed for the
 * Tenant's life. A new Tenant with a reused name has a new UID and so a new id.
 */
export function tenantIdFromUid(uid: string): string {
  return "t" + createHash("sha256").update(uid).digest("hex").slice(0, 11);
}

export function ownershipLabels(tenant: string, tenantId: string): Record<string, string> {
  return { [managedByLabel]: managedByValue, [tenantLabel]: tenant, [tenantIdLabel]: tenantId };
}

/** Returns whether `labels` carry all three ownership labels for this tenant and id. */
export function isOwnedBy(labels: Record<string, string> | undefined, tenant: string, tenantId: string): boolean {
  return (
    labels?.[managedByLabel] === managedByValue && labels[tenantLabel] === tenant && labels[tenantIdLabel] === tenantId
  );
}

export function namespaceName(tenant: string, name: string): string {
  return `${tenant}-${name}`;
}

/** Name of the informer index that maps a tenant name to the cached objects labelled with it. */
export const tenantIndex = "tenant";

/** Index values for `tenantIndex`: the object's tenant label, if any. */
export function tenantIndexKeys(object: { metadata?: { labels?: Record<string, string> } }): string[] {
  const tenant = object.metadata?.labels?.[tenantLabel];
  return tenant ? [tenant] : [];
}
