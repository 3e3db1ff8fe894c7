// The API resources the operator reads and writes, named once.
import type { ResourceType } from "./client.js";

function core(plural: string, kind: string, namespaced = true): ResourceType {
  return { group: "", version: "v1", plural, kind, namespaced };
}

export const Resources = {
  namespace: core("namespaces", "Namespace", false),
  serviceAccount: core("serviceaccounts", "ServiceAccount"),
  service: core("services", "Service"),
  pod: core("pods", "Pod"),
  event: core("events", "Event"),
  configMap: core("configmaps", "ConfigMap"),
  resourceQuota: core("resourcequotas", "ResourceQuota"),
  limitRange: core("limitranges", "LimitRange"),
  endpointSlice: {
    group: "discovery.k8s.io",
    version: "v1",
    plural: "endpointslices",
    kind: "EndpointSlice",
    namespaced: true,
  },
  deployment: { group: "apps", version: "v1", plural: "deployments", kind: "Deployment", namespaced: true },
  statefulSet: { group: "apps", version: "v1", plural: "statefulsets", kind: "StatefulSet", namespaced: true },
  networkPolicy: {
    group: "networking.k8s.io",
    version: "v1",
    plural: "networkpolicies",
    kind: "NetworkPolicy",
    namespaced: true,
  },
  role: { group: "rbac.authorization.k8s.io", version: "v1", plural: "roles", kind: "Role", namespaced: true },
  roleBinding: {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    plural: "rolebindings",
    kind: "RoleBinding",
    namespaced: true,
  },
  clusterRole: {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    plural: "clusterroles",
    kind: "ClusterRole",
    namespaced: false,
  },
  clusterRoleBinding: {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    plural: "clusterrolebindings",
    kind: "ClusterRoleBinding",
    namespaced: false,
  },
  lease: { group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true },
  horizontalPodAutoscaler: {
    group: "autoscaling",
    version: "v2",
    plural: "horizontalpodautoscalers",
    kind: "HorizontalPodAutoscaler",
    namespaced: true,
  },
  podDisruptionBudget: {
    group: "policy",
    version: "v1",
    plural: "poddisruptionbudgets",
    kind: "PodDisruptionBudget",
    namespaced: true,
  },
  customResourceDefinition: {
    group: "apiextensions.k8s.io",
    version: "v1",
    plural: "customresourcedefinitions",
    kind: "CustomResourceDefinition",
    namespaced: false,
  },
  tenant: { group: "tenancy.dev", version: "v1alpha1", plural: "tenants", kind: "Tenant", namespaced: false },
  tenantRequest: {
    group: "tenancy.dev",
    version: "v1alpha1",
    plural: "tenantrequests",
    kind: "TenantRequest",
    namespaced: true,
  },
  sharedApp: { group: "tenancy.dev", version: "v1alpha1", plural: "sharedapps", kind: "SharedApp", namespaced: false },
} satisfies Record<string, ResourceType>;
