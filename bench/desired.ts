// The objects the operator creates for a fresh Tenant, computed with the operator's own pure builders, so that
// the raw phase applies exactly what the operator would. `compareWithCluster` checks that claim against the
// objects the operator really created in the operator phase.
import type { Tenant } from "../src/api/generated.js";
import { containsDesired } from "../src/runtime/apply.js";
import type { KubeClient, KubeObject, ResourceType } from "../src/runtime/client.js";
import { Resources } from "../src/runtime/resources.js";
import { buildLimitRanges } from "../src/tenant/desired/limitRanges.js";
import { buildNamespaces } from "../src/tenant/desired/namespaces.js";
import { buildNetworkPolicies } from "../src/tenant/desired/networkPolicies.js";
import { buildPerNamespaceQuotas, buildTotalShareQuotas } from "../src/tenant/desired/quotas.js";
import { buildClusterRbac, buildRoleBindings } from "../src/tenant/desired/rbac.js";
import type { PlatformSettings, TenantContext } from "../src/tenant/desired/types.js";
import { effectiveSpec } from "../src/tenant/effective.js";
import { managedSelector, namespaceName, tenantIdFromUid } from "../src/tenant/labels.js";
import { planQuotaSplit } from "../src/tenant/quotaSplit.js";

// The operator's settings as src/main.ts defaults them, with the shared node selector that startOperator passes.
export const benchPlatform: PlatformSettings = {
  sharedNodeSelector: "tenancy.dev/pool=general",
  dnsNamespace: "kube-system",
  ownerClusterRoles: { admin: "tenancy:tenant-admin", edit: "tenancy:tenant-edit", view: "tenancy:tenant-view" },
};

export interface DesiredObject {
  type: ResourceType;
  object: KubeObject;
}

/** The objects of one Tenant in the order they may be written. */
export interface TenantObjects {
  /** Namespaces, and the ClusterRole that the ClusterRoleBinding's escalation check reads. */
  setup: DesiredObject[];
  /** Quotas, limits and network policies, which the operator puts in place before any access. */
  guardRails: DesiredObject[];
  /** RoleBindings and the ClusterRoleBinding that let the owners in. */
  access: DesiredObject[];
}

/** Returns the objects that the first reconcile of `tenant` applies. */
export function desiredObjects(tenant: Tenant): TenantObjects {
  const name = tenant.metadata!.name!;
  const { spec } = effectiveSpec(tenant, []);
  const context: TenantContext = {
    tenant: name,
    tenantId: tenantIdFromUid(tenant.metadata!.uid!),
    spec,
    namespaces: spec.namespaces.slice(0, spec.maxNamespaces).map((namespace) => namespaceName(name, namespace.name)),
    platform: benchPlatform,
  };
  const plan = planQuotaSplit(
    spec.quota.total,
    context.namespaces.map((namespace) => ({ namespace })),
  );
  const typed = (type: ResourceType, objects: KubeObject[]): DesiredObject[] =>
    objects.map((object) => ({ type, object }));
  const [clusterRole, clusterRoleBinding] = buildClusterRbac(context);
  return {
    setup: [
      ...typed(Resources.namespace, buildNamespaces(context)),
      ...typed(Resources.clusterRole, clusterRole ? [clusterRole] : []),
    ],
    guardRails: [
      ...typed(Resources.resourceQuota, buildPerNamespaceQuotas(context)),
      ...(Object.keys(spec.quota.total).length > 0
        ? typed(Resources.resourceQuota, buildTotalShareQuotas(context, plan.targets))
        : []),
      ...typed(Resources.limitRange, buildLimitRanges(context)),
      ...typed(Resources.networkPolicy, buildNetworkPolicies(context)),
    ],
    access: [
      ...typed(Resources.roleBinding, buildRoleBindings(context)),
      ...typed(Resources.clusterRoleBinding, clusterRoleBinding ? [clusterRoleBinding] : []),
    ],
  };
}

export interface Comparison {
  desired: number;
  /** Objects the operator manages in the cluster, of the kinds above. */
  managed: number;
  missing: string[];
  unexpected: string[];
  /** Desired objects whose cluster copy lacks a desired field or value. */
  different: string[];
}

/** Compares the builders' output for `tenants` with what carries the operator's managed-by label in the cluster. */
export async function compareWithCluster(client: KubeClient, tenants: readonly Tenant[]): Promise<Comparison> {
  const expected = new Map<string, KubeObject>();
  for (const tenant of tenants) {
    const { setup, guardRails, access } = desiredObjects(tenant);
    for (const { type, object } of [...setup, ...guardRails, ...access]) expected.set(keyOf(type, object), object);
  }

  const kinds = [
    Resources.namespace,
    Resources.resourceQuota,
    Resources.limitRange,
    Resources.networkPolicy,
    Resources.roleBinding,
    Resources.clusterRole,
    Resources.clusterRoleBinding,
  ];
  const found = new Map<string, KubeObject>();
  for (const type of kinds) {
    const list = await client.listAll<KubeObject>(type, { labelSelector: managedSelector });
    for (const object of list.items) found.set(keyOf(type, object), object);
  }

  const comparison: Comparison = {
    desired: expected.size,
    managed: found.size,
    missing: [],
    unexpected: [],
    different: [],
  };
  for (const [key, object] of expected) {
    const actual = found.get(key);
    if (!actual) comparison.missing.push(key);
    else if (!containsDesired(actual, { ...object, apiVersion: undefined, kind: undefined })) {
      comparison.different.push(key);
    }
  }
  for (const key of found.keys()) if (!expected.has(key)) comparison.unexpected.push(key);
  return comparison;
}

function keyOf(type: ResourceType, object: KubeObject): string {
  const namespace = object.metadata?.namespace;
  return `${type.kind} ${namespace ? `${namespace}/` : ""}${object.metadata?.name}`;
}
