// Builds the tenant registry that the shared application reads: the ConfigMap `tenant-registry` in the platform
// namespace, with one key `<version>.json` for each lane. Each key lists the tenants that lane may receive
// traffic for: the Shared tenants assigned to its version, and the tenants whose endpoints still point at it while
// they move to another lane or to a dedicated instance. docs/tenant-registry.schema.json is the format's schema.
//
// NOTE: a ConfigMap holds at most 1 MiB, which at roughly 300 bytes for each entry is a few thousand tenants.

import type { V1ConfigMap } from "@kubernetes/client-node";
import { platformLabels, registryConfigMapName, registryKey } from "../names.js";

export const registrySchemaVersion = 1;

/** One tenant as the registry lists it. */
export interface RegistryTenant {
  /** The tenant id (Tenant.status.tenantId): the key the app stores the tenant's data under. */
  id: string;
  name: string;
  /** The version assigned to the tenant; differs from the lane's version while the tenant moves. */
  version: string;
  mode: "Shared" | "Dedicated";
  namespaces: string[];
  settings: { pinned: boolean; suspended: boolean; tier: string };
}

/** The document under one lane's key. */
export interface RegistryDocument {
  schemaVersion: number;
  version: string;
  tenants: RegistryTenant[];
}

/**
 * Builds the registry from each lane version's tenants. Lanes and tenants are sorted, so that unchanged input
 * gives an identical ConfigMap.
 */
export function buildRegistry(namespace: string, lanes: ReadonlyMap<string, readonly RegistryTenant[]>): V1ConfigMap {
  const data: Record<string, string> = {};
  for (const version of [...lanes.keys()].sort()) {
    const tenants = [...lanes.get(version)!].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    const document: RegistryDocument = { schemaVersion: registrySchemaVersion, version, tenants };
    data[registryKey(version)] = JSON.stringify(document);
  }
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: registryConfigMapName, namespace, labels: platformLabels() },
    ...(Object.keys(data).length > 0 ? { data } : {}),
  };
}
