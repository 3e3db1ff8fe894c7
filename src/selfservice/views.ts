// The self-service API's representations of Tenants and TenantRequests: the fields a tenant needs, with the spec
// and status of requests as the CRD defines them. The OpenAPI document describes the same shapes.

import type { Tenant, TenantRequest, TenantRequestSpec, TenantRequestStatus, TenantStatus } from "../api/generated.js";
import { selfServicePolicyOf, type SelfServicePolicy } from "../requests/policy.js";
import type { TenantAccess } from "./authorization.js";

export interface TenantRequestView {
  name: string;
  namespace: string;
  tenant: string;
  createdAt?: string;
  spec: TenantRequestSpec;
  status: TenantRequestStatus;
}

export interface TenantSummaryView {
  name: string;
  tenantId?: string;
  phase?: string;
  ready: boolean;
  tier?: string;
  namespaceCount: number;
  access: TenantAccess;
}

export interface TenantDetailView extends TenantSummaryView {
  maxNamespaces: number;
  namespaces: NonNullable<TenantStatus["namespaces"]>;
  usage: NonNullable<TenantStatus["usage"]>;
  conditions: NonNullable<TenantStatus["conditions"]>;
  /** Requests whose grant the Tenant applies, as namespace/name. */
  requests: string[];
  selfService: SelfServicePolicy;
}

export function requestView(request: TenantRequest, tenant: string): TenantRequestView {
  const created = request.metadata?.creationTimestamp;
  return {
    name: request.metadata!.name!,
    namespace: request.metadata!.namespace!,
    tenant: request.status?.tenant ?? tenant,
    ...(created ? { createdAt: new Date(created).toISOString().replace(/\.\d+Z$/, "Z") } : {}),
    spec: request.spec,
    status: request.status ?? {},
  };
}

export function tenantSummary(tenant: Tenant, access: TenantAccess): TenantSummaryView {
  const status = tenant.status ?? {};
  const ready = status.conditions?.find((condition) => condition.type === "Ready")?.status === "True";
  return {
    name: tenant.metadata!.name!,
    ...(status.tenantId ? { tenantId: status.tenantId } : {}),
    ...(status.phase ? { phase: status.phase } : {}),
    ready,
    ...(status.tier ? { tier: status.tier } : {}),
    namespaceCount: status.namespaceCount ?? 0,
    access,
  };
}

export function tenantDetail(tenant: Tenant, access: TenantAccess): TenantDetailView {
  const status = tenant.status ?? {};
  return {
    ...tenantSummary(tenant, access),
    maxNamespaces: tenant.spec.maxNamespaces ?? 10,
    namespaces: status.namespaces ?? [],
    usage: status.usage ?? {},
    conditions: status.conditions ?? [],
    requests: status.requests ?? [],
    selfService: selfServicePolicyOf(tenant.spec),
  };
}
