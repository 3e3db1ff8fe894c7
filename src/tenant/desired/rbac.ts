// Builds the RBAC that lets a tenant's owners work in its namespaces: one RoleBinding for each owner role in
// each namespace, and a ClusterRole with its binding that lets owners `get` their own Tenant and namespaces and
// nothing else cluster-scoped (RBAC cannot filter a list, so listing goes through the self-service API).

import type { RbacV1Subject, V1ClusterRole, V1ClusterRoleBinding, V1RoleBinding } from "@kubernetes/client-node";
import type { Owner } from "../effective.js";
import { ownershipLabels } from "../labels.js";
import type { TenantContext } from "./types.js";

const roles = ["admin", "edit", "view"] as const;

/** The RBAC subject of an owner; a ServiceAccount is identified by namespace and name, never name alone. */
export function subjectOf(owner: Owner): RbacV1Subject {
  if (owner.kind === "ServiceAccount") return { kind: "ServiceAccount", name: owner.name, namespace: owner.namespace };
  return { kind: owner.kind, name: owner.name, apiGroup: "rbac.authorization.k8s.io" };
}

export function buildRoleBindings(context: TenantContext): V1RoleBinding[] {
  const bindings: V1RoleBinding[] = [];
  for (const role of roles) {
    const owners = context.spec.owners.filter((owner) => (owner.role ?? "admin") === role);
    if (owners.length === 0) continue;
    for (const namespace of context.namespaces) {
      bindings.push({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: `tenant-${role}`, namespace, labels: ownershipLabels(context.tenant, context.tenantId) },
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "ClusterRole",
          name: context.platform.ownerClusterRoles[role],
        },
        subjects: owners.map(subjectOf),
      });
    }
  }
  return bindings;
}

/**
 * Name of the per-tenant ClusterRole and ClusterRoleBinding. It carries the tenant id, so a new Tenant that
 * reuses a name never collides with what an earlier one left behind (for example after the CRDs were removed).
 */
export function tenantClusterRoleName(tenant: string, tenantId: string): string {
  return `tenancy:tenant:${tenant}:${tenantId}`;
}

export function buildClusterRbac(context: TenantContext): [V1ClusterRole, V1ClusterRoleBinding] | [] {
  if (context.spec.owners.length === 0) return [];
  const name = tenantClusterRoleName(context.tenant, context.tenantId);
  const labels = ownershipLabels(context.tenant, context.tenantId);
  const rules = [
    { apiGroups: ["tenancy.dev"], resources: ["tenants"], resourceNames: [context.tenant], verbs: ["get"] },
  ];
  if (context.namespaces.length > 0) {
    rules.push({ apiGroups: [""], resources: ["namespaces"], resourceNames: [...context.namespaces], verbs: ["get"] });
  }
  return [
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name, labels }, rules },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: context.spec.owners.map(subjectOf),
    },
  ];
}
