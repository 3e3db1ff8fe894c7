// The self-service API's reads and writes of Tenants, their namespaces and their TenantRequests, straight from the
// API server, so that a caller reads its own writes and the API keeps no state of its own.

import type { V1Namespace } from "@kubernetes/client-node";
import type { Tenant, TenantRequest } from "../api/generated.js";
import type { KubeClient } from "../runtime/client.js";
import { Resources } from "../runtime/resources.js";
import { managedSelector, tenantIdFromUid, tenantIdLabel, tenantLabel } from "../tenant/labels.js";

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Returns whether `name` can be an object name. The API returns 404 for any other name before calling the API server. */
export function isObjectName(name: string, kind: "label" | "subdomain"): boolean {
  return name.length <= (kind === "label" ? 63 : 253) && (kind === "label" ? dnsLabel : dnsSubdomain).test(name);
}

export class TenantDirectory {
  constructor(private readonly client: KubeClient) {}

  async getTenant(name: string): Promise<Tenant | undefined> {
    if (!isObjectName(name, "label")) return undefined;
    return this.client.get<Tenant>(Resources.tenant, name);
  }

  async listTenants(): Promise<Tenant[]> {
    return (await this.client.listAll<Tenant>(Resources.tenant)).items;
  }

  /**
   * Names of the tenant's namespaces: those carrying all three ownership labels with the id of this Tenant, and not
   * being deleted. The same labels decide which requests the Tenant controller applies.
   */
  async namespacesOf(tenant: Tenant): Promise<string[]> {
    const name = tenant.metadata!.name!;
    const id = tenantIdFromUid(tenant.metadata!.uid!);
    const namespaces = await this.client.listAll<V1Namespace>(Resources.namespace, {
      labelSelector: `${managedSelector},${tenantLabel}=${name},${tenantIdLabel}=${id}`,
    });
    return namespaces.items
      .filter((namespace) => !namespace.metadata?.deletionTimestamp)
      .map((namespace) => namespace.metadata!.name!)
      .sort();
  }

  /** Lists the tenant's namespaces that its status reports Ready, in status order. */
  async readyNamespacesOf(tenant: Tenant): Promise<string[]> {
    const owned = new Set(await this.namespacesOf(tenant));
    return (tenant.status?.namespaces ?? [])
      .filter((namespace) => namespace.state === "Ready" && owned.has(namespace.name))
      .map((namespace) => namespace.name);
  }

  /** Lists every request in the tenant's namespaces, oldest first. */
  async requestsOf(tenant: Tenant, namespaces?: string[]): Promise<TenantRequest[]> {
    const lists = await Promise.all(
      (namespaces ?? (await this.namespacesOf(tenant))).map((namespace) =>
        this.client.listAll<TenantRequest>(Resources.tenantRequest, { namespace }),
      ),
    );
    return lists
      .flatMap((list) => list.items)
      .sort((a, b) => String(a.metadata?.creationTimestamp).localeCompare(String(b.metadata?.creationTimestamp)));
  }

  /** The tenant's requests named `name`, in `namespace` when given (which must be one of the tenant's). */
  async findRequests(tenant: Tenant, name: string, namespace?: string): Promise<TenantRequest[]> {
    if (!isObjectName(name, "subdomain")) return [];
    const namespaces = (await this.namespacesOf(tenant)).filter((each) => !namespace || each === namespace);
    const found = await Promise.all(
      namespaces.map((each) => this.client.get<TenantRequest>(Resources.tenantRequest, name, each)),
    );
    return found.filter((request): request is TenantRequest => request !== undefined);
  }

  async createRequest(request: TenantRequest): Promise<TenantRequest> {
    return this.client.create(Resources.tenantRequest, {
      apiVersion: "tenancy.dev/v1alpha1",
      kind: "TenantRequest",
      ...request,
    });
  }

  /** Merge-patches the spec of one request. */
  async patchRequestSpec(request: TenantRequest, spec: Partial<TenantRequest["spec"]>): Promise<TenantRequest> {
    return this.client.patch<TenantRequest>(
      Resources.tenantRequest,
      request.metadata!.name!,
      request.metadata!.namespace!,
      { spec },
      "application/merge-patch+json",
    );
  }
}
