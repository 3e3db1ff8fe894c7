// The benchmark's Tenant, as a platform engineer would write it: two namespaces, a per-namespace quota, a tenant
// total split across the namespaces, container limits, and network ingress allowed from one platform namespace.
// Its one owner is a ServiceAccount, so that the owner can call the self-service API with a token. Every run and
// both phases (operator and raw) use this one shape.
import type { Tenant, TenantSpec } from "../src/api/generated.js";
import type { KubeClient } from "../src/runtime/client.js";
import { Resources } from "../src/runtime/resources.js";
import { forEachBounded } from "./concurrency.js";

export const platformNamespace = "monitoring";

/** Namespace of the owners' ServiceAccounts; the self-service figure mints their tokens to call the API. */
export const ownerNamespace = "bench-owners";

export function ownerName(tenant: string): string {
  return `${tenant}-owner`;
}

export function tenantName(index: number): string {
  return `bench-${String(index).padStart(4, "0")}`;
}

export function benchTenantSpec(name: string): TenantSpec {
  return {
    owners: [{ kind: "ServiceAccount", name: ownerName(name), namespace: ownerNamespace }],
    namespaces: [{ name: "dev" }, { name: "prod" }],
    quota: {
      perNamespace: { pods: "20", "requests.cpu": "4", "requests.memory": "8Gi" },
      total: { "requests.cpu": "6", "requests.memory": "12Gi" },
    },
    limits: {
      defaultRequest: { cpu: "100m", memory: "128Mi" },
      default: { cpu: "500m", memory: "512Mi" },
      max: { cpu: "2", memory: "4Gi" },
    },
    network: { allowFromNamespaces: [platformNamespace] },
  };
}

/**
 * Creates Tenants `first` .. `first + count - 1` with `concurrency` creations in flight and returns them as the
 * API server stored them (with UID and defaults).
 */
export async function createTenants(
  client: KubeClient,
  first: number,
  count: number,
  concurrency: number,
): Promise<Tenant[]> {
  const names = Array.from({ length: count }, (_, index) => tenantName(first + index));
  const created: Tenant[] = new Array<Tenant>(count);
  await forEachBounded(names, concurrency, async (name, index) => {
    const tenant: Tenant = {
      apiVersion: "tenancy.dev/v1alpha1",
      kind: "Tenant",
      metadata: { name },
      spec: benchTenantSpec(name),
    };
    try {
      created[index] = await client.create(Resources.tenant, tenant);
    } catch (error) {
      throw new Error(`creating Tenant ${name} failed`, { cause: error });
    }
  });
  return created;
}
