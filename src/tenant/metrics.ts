// The tenancy_* domain metrics: tenants by phase, namespaces per tenant, and tenant-wide quota used and hard.
// Series of a deleted tenant are removed, so dashboards never show ghosts.

import { Gauge } from "prom-client";
import type { TenantStatus } from "../api/generated.js";
import { registry } from "../runtime/metrics.js";
import { parseQuantity } from "./quantity.js";

const phases = ["Provisioning", "Ready", "Degraded", "Suspended", "Terminating"] as const;

const tenantsByPhase = new Gauge({
  name: "tenancy_tenants",
  help: "Number of tenants by phase.",
  labelNames: ["phase"] as const,
  registers: [registry],
});

const tenantNamespaces = new Gauge({
  name: "tenancy_tenant_namespaces",
  help: "Number of namespaces provisioned for a tenant.",
  labelNames: ["tenant"] as const,
  registers: [registry],
});

const tenantReady = new Gauge({
  name: "tenancy_tenant_ready",
  help: "1 when the tenant's Ready condition is True, else 0.",
  labelNames: ["tenant"] as const,
  registers: [registry],
});

const quotaUsed = new Gauge({
  name: "tenancy_tenant_quota_used",
  help: "Tenant-wide quota usage by resource, in the resource's base unit (cores for cpu, bytes for memory).",
  labelNames: ["tenant", "resource"] as const,
  registers: [registry],
});

const quotaHard = new Gauge({
  name: "tenancy_tenant_quota_hard",
  help: "Tenant-wide quota limit by resource, in the resource's base unit.",
  labelNames: ["tenant", "resource"] as const,
  registers: [registry],
});

for (const phase of phases) tenantsByPhase.set({ phase }, 0);

class TenantMetrics {
  private readonly phaseOf = new Map<string, string>();
  private readonly resourcesOf = new Map<string, Set<string>>();

  record(tenant: string, status: TenantStatus): void {
    this.phaseOf.set(tenant, status.phase ?? "Provisioning");
    this.updatePhases();
    tenantNamespaces.set({ tenant }, status.namespaceCount ?? 0);
    const ready = status.conditions?.find((condition) => condition.type === "Ready")?.status === "True";
    tenantReady.set({ tenant }, ready ? 1 : 0);

    const resources = new Set(Object.keys(status.usage ?? {}));
    for (const stale of this.resourcesOf.get(tenant) ?? []) {
      if (!resources.has(stale)) {
        quotaUsed.remove({ tenant, resource: stale });
        quotaHard.remove({ tenant, resource: stale });
      }
    }
    for (const [resource, { used, hard }] of Object.entries(status.usage ?? {})) {
      quotaUsed.set({ tenant, resource }, toNumber(used));
      quotaHard.set({ tenant, resource }, toNumber(hard));
    }
    this.resourcesOf.set(tenant, resources);
  }

  forget(tenant: string): void {
    if (!this.phaseOf.delete(tenant)) return;
    this.updatePhases();
    tenantNamespaces.remove({ tenant });
    tenantReady.remove({ tenant });
    for (const resource of this.resourcesOf.get(tenant) ?? []) {
      quotaUsed.remove({ tenant, resource });
      quotaHard.remove({ tenant, resource });
    }
    this.resourcesOf.delete(tenant);
  }

  private updatePhases(): void {
    const counts = new Map<string, number>(phases.map((phase) => [phase, 0]));
    for (const phase of this.phaseOf.values()) counts.set(phase, (counts.get(phase) ?? 0) + 1);
    for (const [phase, count] of counts) tenantsByPhase.set({ phase }, count);
  }
}

export const tenantMetrics = new TenantMetrics();

function toNumber(quantity: string | undefined): number {
  if (!quantity) return 0;
  return Number(parseQuantity(quantity)) / 1000;
}
