// Generated from crds/ by `npm run generate`; do not edit. A unit test fails when this file is out of date.
import type { ObjectMeta } from "../runtime/client.js";

export interface TenantSpec {
  /** Users, groups and service accounts that work inside the tenant's namespaces. */
  owners?: Array<{
    kind: "User" | "Group" | "ServiceAccount";
    name: string;
    /** Namespace of a ServiceAccount owner; the owner is system:serviceaccount:NAMESPACE:NAME. */
    namespace?: string;
    role?: "admin" | "edit" | "view";
  }>;
  /** Namespaces to create, each named <tenant>-<name>. */
  namespaces?: Array<{
    name: string;
    /** Extra labels for the namespace; keys under tenancy.dev/ and pod-security.kubernetes.io/ are reserved. */
    labels?: Record<string, string>;
  }>;
  /** Cap on the tenant's namespaces, self-service ones included. */
  maxNamespaces?: number;
  quota?: {
    /** ResourceQuota hard list for each namespace (for example requests.cpu, limits.memory, pods). */
    perNamespace?: Record<string, string | number>;
    /** Hard list for the whole tenant, split across its namespaces so that their sum never exceeds it. */
    total?: Record<string, string | number>;
  };
  /** Container defaults and bounds, rendered as a LimitRange in each namespace. */
  limits?: {
    default?: Record<string, string | number>;
    defaultRequest?: Record<string, string | number>;
    max?: Record<string, string | number>;
    min?: Record<string, string | number>;
  };
  network?: {
    /** Platform namespaces allowed to reach the tenant, matched by kubernetes.io/metadata.name. */
    allowFromNamespaces?: Array<string>;
    /** Allow egress to DNS (port 53) in kube-system; applies when egress is restricted. */
    allowDNS?: boolean;
    /** Deny egress except inside the tenant, DNS and egressRules. */
    restrictEgress?: boolean;
    /** Extra NetworkPolicy ingress rules added to every tenant namespace. */
    ingressRules?: Array<Record<string, unknown>>;
    /** Extra NetworkPolicy egress rules added when egress is restricted. */
    egressRules?: Array<Record<string, unknown>>;
  };
  podSecurity?: "restricted" | "baseline" | "privileged";
  /** Dedicated nodes; the tenant's pods get this node selector and may tolerate only these taints. */
  placement?: {
    /** Dedicated node pool; adds node selector tenancy.dev/pool=POOL and a toleration of the taint tenancy.dev/pool=POOL:NoSchedule. */
    pool?: string;
    nodeSelector?: Record<string, string>;
    tolerations?: Array<{
      key?: string;
      operator?: "Exists" | "Equal";
      value?: string;
      effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
    }>;
  };
  app?: {
    mode?: "Shared" | "Dedicated";
    replicas?: number;
    /** Pinned application version; empty follows the platform's version channel. */
    version?: string;
    resources?: Record<string, unknown>;
  };
  /** What TenantRequests are approved without a platform engineer. */
  selfService?: {
    maxExtraNamespaces?: number;
    /** Largest tenant total (per resource) that a Quota request may reach on its own. */
    quotaCeiling?: Record<string, string | number>;
    dedicatedInstance?: boolean;
    dedicatedNodes?: boolean;
    suspend?: boolean;
    maxPendingRequests?: number;
  };
  suspended?: boolean;
  deletionPolicy?: "Retain" | "Delete";
  services?: {
    allowNodePort?: boolean;
    allowLoadBalancer?: boolean;
    allowExternalIPs?: boolean;
    /** StorageClasses the tenant may use; empty allows none but the cluster default. */
    storageClasses?: Array<string>;
    /** PriorityClasses the tenant's pods may use; empty allows none. */
    priorityClasses?: Array<string>;
  };
}

export interface TenantStatus {
  phase?: "Provisioning" | "Ready" | "Degraded" | "Suspended" | "Terminating";
  observedGeneration?: number;
  tenantId?: string;
  tier?: string;
  namespaceCount?: number;
  namespaces?: Array<{
    name: string;
    state: "Ready" | "Conflict" | "Orphaned" | "Pending" | "Terminating";
    message?: string;
  }>;
  conditions?: Array<{
    type: string;
    status: "True" | "False" | "Unknown";
    observedGeneration?: number;
    lastTransitionTime: string;
    reason: string;
    message: string;
  }>;
  /** Tenant-wide quota usage by resource. */
  usage?: Record<
    string,
    {
      used?: string;
      hard?: string;
    }
  >;
  app?: {
    mode?: string;
    version?: string;
    readyReplicas?: number;
  };
  /** Approved TenantRequests this status reflects, as namespace/name. */
  requests?: Array<string>;
}

export interface Tenant {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec: TenantSpec;
  status?: TenantStatus;
}

export interface TenantRequestSpec {
  /** What is asked; RemoveNamespace, Quota with lower values, SharedInstance, ReleaseNodes and Resume give a grant back. */
  type:
    | "Namespace"
    | "RemoveNamespace"
    | "Quota"
    | "DedicatedInstance"
    | "SharedInstance"
    | "DedicatedNodes"
    | "ReleaseNodes"
    | "Suspend"
    | "Resume";
  /** Short name of the namespace to add or remove; the namespace is <tenant>-<namespaceName>. */
  namespaceName?: string;
  /** New hard values for the tenant; scope Total changes quota.total, PerNamespace changes quota.perNamespace. */
  quota?: {
    scope: "Total" | "PerNamespace";
    hard: Record<string, string | number>;
  };
  /** Dedicated node pool, matched by the node label tenancy.dev/pool. */
  pool?: string;
  /** Why the tenant asks, for the platform engineer who decides. */
  reason?: string;
  /** Who asked; an admission policy pins it to the user who creates the request with kubectl. */
  requestedBy?: {
    username?: string;
    groups?: Array<string>;
  };
  /** A platform engineer's decision; only users allowed the verb approve on tenantrequests may set it. */
  approval?: {
    decision: "Approved" | "Denied";
    /** The deciding user; an admission policy pins it to the user who sets the decision. */
    by: string;
    reason?: string;
  };
  /** Withdraws the request; an approved grant is taken back. */
  cancelled?: boolean;
}

export interface TenantRequestStatus {
  phase?: "Pending" | "Approved" | "Denied" | "Provisioned" | "Failed" | "Cancelled";
  tenant?: string;
  reason?: string;
  message?: string;
  decidedBy?: string;
  decidedAt?: string;
  provisionedAt?: string;
  observedGeneration?: number;
}

export interface TenantRequest {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec: TenantRequestSpec;
  status?: TenantRequestStatus;
}
