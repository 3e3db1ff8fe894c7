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

export interface SharedAppSpec {
  /** The application image; the tag is the version, so a lane runs repository:version. */
  image: {
    /** Image repository without tag, for example registry.example/shop. */
    repository: string;
    pullPolicy?: "Always" | "IfNotPresent" | "Never";
  };
  /** The platform's current version; tenants that pin no version follow it. */
  channelVersion: string;
  /** Versions that may run; a tenant may pin any of them. Must contain channelVersion. */
  supportedVersions: Array<string>;
  /** Pods of each lane; left alone while a HorizontalPodAutoscaler targets the lane. */
  replicas?: number;
  /** Container requests and limits of the application, as in a Pod spec. */
  resources?: {
    requests?: Record<string, string | number>;
    limits?: Record<string, string | number>;
  };
  /** Container port the application listens on; tenants reach it on port 80 of their app Service. */
  port?: number;
  /** Application settings, mounted as files under /etc/app/config in every lane and dedicated instance. */
  config?: Record<string, string>;
  /** Namespace of the lanes, their Services and the tenant registry. */
  platformNamespace?: string;
  /** Settings that apply to one version only, keyed by version (for example a release that needs more memory). resources replaces the app's resources for that version's pods; nodeSelector adds to the node selector of that version's lane (dedicated instances stay on their tenant's nodes). */
  versionOverrides?: Record<
    string,
    {
      /** Container requests and limits of the application, as in a Pod spec. */
      resources?: {
        requests?: Record<string, string | number>;
        limits?: Record<string, string | number>;
      };
      nodeSelector?: Record<string, string>;
    }
  >;
  /** How a change of channelVersion moves the tenants that follow the channel. */
  rollout?: {
    /** Tenants (by name) moved first, in a wave of their own. */
    canaryTenants?: Array<string>;
    /** Most tenants moved in one wave after the canaries. */
    waveSize?: number;
    /** Seconds a wave may take to become Available; a wave that takes longer halts the rollout until the spec changes. */
    waveTimeoutSeconds?: number;
  };
}

export interface SharedAppStatus {
  observedGeneration?: number;
  /** Progressing while waves move tenants, Halted after a wave timed out, Complete otherwise. */
  phase?: "Progressing" | "Halted" | "Complete";
  /** The channel version the current rollout moves tenants to. */
  targetVersion?: string;
  /** The channel version before the current rollout; new tenants join it until the rollout completes. */
  previousVersion?: string;
  /** Number of the latest wave of the current rollout; wave 0 holds the canary tenants if any. */
  currentWave?: number;
  /** Tenants of the wave in progress. */
  waveTenants?: Array<string>;
  waveStartedAt?: string;
  /** metadata.generation when the rollout halted; a newer spec resumes it. */
  haltedGeneration?: number;
  message?: string;
  tenantCount?: number;
  /** Versions that have a lane, comma-separated. */
  laneVersions?: string;
  lanes?: Array<{
    version: string;
    name: string;
    tenants?: number;
    replicas?: number;
    readyReplicas?: number;
    available?: boolean;
  }>;
  /** Every active tenant with the version assigned to it and the version it runs. */
  tenants?: Array<{
    name: string;
    tenantId: string;
    mode?: string;
    pinned?: boolean;
    assignedVersion: string;
    runningVersion?: string;
    /** Wave of the current rollout that moved this tenant. */
    wave?: number;
  }>;
  conditions?: Array<{
    type: string;
    status: "True" | "False" | "Unknown";
    observedGeneration?: number;
    lastTransitionTime: string;
    reason: string;
    message: string;
  }>;
}

export interface SharedApp {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec: SharedAppSpec;
  status?: SharedAppStatus;
}
