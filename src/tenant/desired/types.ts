// What the desired-state builders take and return.
import type { KubeObject, ResourceType } from "../../runtime/client.js";
import type { EffectiveSpec } from "../effective.js";

/** Everything a builder needs: pure data, no client. */
export interface TenantContext {
  tenant: string;
  tenantId: string;
  spec: EffectiveSpec;
  /** Full names of the tenant's namespaces that the operator may provision (owned or free to create). */
  namespaces: string[];
  platform: PlatformSettings;
}

/** Cluster-wide settings of this installation. */
export interface PlatformSettings {
  /** Node selector for tenants without dedicated nodes, as `key=value,...`; empty for none. */
  sharedNodeSelector: string;
  /** Namespace and labels of the cluster DNS pods, for DNS egress. */
  dnsNamespace: string;
  /** ClusterRoles bound for each owner role. */
  ownerClusterRoles: Record<"admin" | "edit" | "view", string>;
}

export interface DesiredObject {
  type: ResourceType;
  object: KubeObject;
}
