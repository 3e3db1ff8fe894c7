// The effective spec of a tenant: Tenant.spec with its defaults filled in, plus the grants of its approved
// TenantRequests laid over it. The operator provisions this and never writes Tenant.spec, so re-applying a
// Tenant manifest from Git never undoes a grant, and cancelling a request takes its grant back.

import type { Tenant, TenantRequest, TenantSpec } from "../api/generated.js";

export type Owner = NonNullable<TenantSpec["owners"]>[number];
export type Toleration = NonNullable<NonNullable<TenantSpec["placement"]>["tolerations"]>[number];

export interface EffectiveNamespace {
  /** Short name; the namespace is `<tenant>-<name>`. */
  name: string;
  labels: Record<string, string>;
  /** The request that added it, as namespace/name; undefined for namespaces from the spec. */
  grantedBy?: string;
}

export interface EffectiveSpec {
  owners: Owner[];
  namespaces: EffectiveNamespace[];
  maxNamespaces: number;
  quota: { perNamespace: Record<string, string>; total: Record<string, string> };
  limits: {
    default: Record<string, string>;
    defaultRequest: Record<string, string>;
    max: Record<string, string>;
    min: Record<string, string>;
  };
  network: {
    allowFromNamespaces: string[];
    allowDNS: boolean;
    restrictEgress: boolean;
    ingressRules: Record<string, unknown>[];
    egressRules: Record<string, unknown>[];
  };
  podSecurity: "restricted" | "baseline" | "privileged";
  placement: { pool?: string; nodeSelector: Record<string, string>; tolerations: Toleration[] };
  app: { mode: "Shared" | "Dedicated"; replicas: number; version?: string; resources?: Record<string, unknown> };
  suspended: boolean;
  deletionPolicy: "Retain" | "Delete";
  services: {
    allowNodePort: boolean;
    allowLoadBalancer: boolean;
    allowExternalIPs: boolean;
    storageClasses: string[];
    priorityClasses: string[];
  };
}

export interface OverlayResult {
  spec: EffectiveSpec;
  /** Requests whose grant is part of `spec`, as namespace/name. */
  applied: string[];
  /** Approved requests whose grant could not be applied, with the reason. */
  rejected: { request: string; reason: string }[];
}

/** Fills in the defaults that the CRD schema declares, for Tenants the API server has not defaulted (tests). */
export function withDefaults(spec: TenantSpec): EffectiveSpec {
  return {
    owners: (spec.owners ?? []).map((owner) => ({ ...owner, role: owner.role ?? "admin" })),
    namespaces: (spec.namespaces ?? []).map((namespace) => ({ name: namespace.name, labels: { ...namespace.labels } })),
    maxNamespaces: spec.maxNamespaces ?? 10,
    quota: { perNamespace: stringValues(spec.quota?.perNamespace), total: stringValues(spec.quota?.total) },
    limits: {
      default: stringValues(spec.limits?.default),
      defaultRequest: stringValues(spec.limits?.defaultRequest),
      max: stringValues(spec.limits?.max),
      min: stringValues(spec.limits?.min),
    },
    network: {
      allowFromNamespaces: [...(spec.network?.allowFromNamespaces ?? [])],
      allowDNS: spec.network?.allowDNS ?? true,
      restrictEgress: spec.network?.restrictEgress ?? false,
      ingressRules: [...(spec.network?.ingressRules ?? [])],
      egressRules: [...(spec.network?.egressRules ?? [])],
    },
    podSecurity: spec.podSecurity ?? "restricted",
    placement: {
      pool: spec.placement?.pool,
      nodeSelector: { ...spec.placement?.nodeSelector },
      tolerations: [...(spec.placement?.tolerations ?? [])],
    },
    app: {
      mode: spec.app?.mode ?? "Shared",
      replicas: spec.app?.replicas ?? 1,
      version: spec.app?.version || undefined,
      resources: spec.app?.resources,
    },
    suspended: spec.suspended ?? false,
    deletionPolicy: spec.deletionPolicy ?? "Retain",
    services: {
      allowNodePort: spec.services?.allowNodePort ?? false,
      allowLoadBalancer: spec.services?.allowLoadBalancer ?? false,
      allowExternalIPs: spec.services?.allowExternalIPs ?? false,
      storageClasses: [...(spec.services?.storageClasses ?? [])],
      priorityClasses: [...(spec.services?.priorityClasses ?? [])],
    },
  };
}

/**
 * Lays the grants of `requests` over the Tenant's spec. Only requests in phase Approved or Provisioned and not
 * cancelled count; they apply in creation order, so a later Resume undoes an earlier Suspend.
 */
export function effectiveSpec(tenant: Tenant, requests: readonly TenantRequest[]): OverlayResult {
  const spec = withDefaults(tenant.spec ?? {});
  const applied: string[] = [];
  const rejected: { request: string; reason: string }[] = [];

  const granted = requests
    .filter((request) => isGranted(request))
    .sort((a, b) => creationTime(a) - creationTime(b) || requestKey(a).localeCompare(requestKey(b)));

  for (const request of granted) {
    const key = requestKey(request);
    const reason = applyGrant(spec, request, key);
    if (reason) rejected.push({ request: key, reason });
    else applied.push(key);
  }
  return { spec, applied, rejected };
}

export function isGranted(request: TenantRequest): boolean {
  const phase = request.status?.phase;
  return (
    (phase === "Approved" || phase === "Provisioned") &&
    request.spec?.cancelled !== true &&
    !request.metadata?.deletionTimestamp
  );
}

export function requestKey(request: TenantRequest): string {
  return `${request.metadata?.namespace}/${request.metadata?.name}`;
}

/** Applies one grant to `spec`; returns why it cannot apply, or undefined when it did. */
function applyGrant(spec: EffectiveSpec, request: TenantRequest, key: string): string | undefined {
  const parameters = request.spec!;
  switch (parameters.type) {
    case "Namespace": {
      const name = parameters.namespaceName!;
      if (spec.namespaces.some((namespace) => namespace.name === name)) return undefined;
      if (spec.namespaces.length >= spec.maxNamespaces) {
        return `the tenant already has maxNamespaces (${spec.maxNamespaces}) namespaces`;
      }
      spec.namespaces.push({ name, labels: {}, grantedBy: key });
      return undefined;
    }
    case "RemoveNamespace": {
      const name = parameters.namespaceName!;
      const index = spec.namespaces.findIndex((namespace) => namespace.name === name);
      if (index < 0) return undefined;
      if (!spec.namespaces[index]!.grantedBy) {
        return `namespace "${name}" is part of the Tenant spec; only a platform engineer can remove it there`;
      }
      spec.namespaces.splice(index, 1);
      return undefined;
    }
    case "Quota": {
      const target = parameters.quota!.scope === "Total" ? spec.quota.total : spec.quota.perNamespace;
      Object.assign(target, stringValues(parameters.quota!.hard));
      return undefined;
    }
    case "DedicatedInstance":
      spec.app.mode = "Dedicated";
      return undefined;
    case "SharedInstance":
      spec.app.mode = "Shared";
      return undefined;
    case "DedicatedNodes":
      spec.placement.pool = parameters.pool;
      return undefined;
    case "ReleaseNodes":
      spec.placement = { nodeSelector: {}, tolerations: [] };
      return undefined;
    case "Suspend":
      spec.suspended = true;
      return undefined;
    case "Resume":
      spec.suspended = false;
      return undefined;
  }
}

function stringValues(values: Record<string, string | number> | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(values ?? {})) result[key] = String(value);
  return result;
}

function creationTime(request: TenantRequest): number {
  const created = request.metadata?.creationTimestamp;
  return created ? new Date(created).getTime() : 0;
}
