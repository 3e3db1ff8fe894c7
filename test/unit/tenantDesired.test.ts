import type { Tenant } from "../../src/api/generated.js";
import { buildNamespaces, placementOf } from "../../src/tenant/desired/namespaces.js";
import { buildNetworkPolicies } from "../../src/tenant/desired/networkPolicies.js";
import { buildClusterRbac, buildRoleBindings } from "../../src/tenant/desired/rbac.js";
import type { TenantContext } from "../../src/tenant/desired/types.js";
import { effectiveSpec, withDefaults } from "../../src/tenant/effective.js";
import { evaluateIsolation } from "../../src/tenant/networkIsolation.js";
import { tenantIdFromUid } from "../../src/tenant/labels.js";

const platform = {
  sharedNodeSelector: "tenancy.dev/pool=general",
  dnsNamespace: "kube-system",
  ownerClusterRoles: { admin: "tenancy:tenant-admin", edit: "tenancy:tenant-edit", view: "tenancy:tenant-view" },
} as const;

function context(spec: Tenant["spec"], namespaces = ["acme-dev", "acme-prod"]): TenantContext {
  return {
    tenant: "acme",
    tenantId: "t0123456789a",
    spec: withDefaults(spec ?? {}),
    namespaces,
    platform: { ...platform },
  };
}

describe("tenant id", () => {
  test("tenant id is short, DNS-safe and differs per UID", () => {
    const first = tenantIdFromUid("1a54966f-a983-4851-b016-dec64a92f131");
    const second = tenantIdFromUid("1a54966f-a983-4851-b016-dec64a92f132");
    expect(first).toMatch(/^t[0-9a-f]{11}$/);
    expect(first).toBe(tenantIdFromUid("1a54966f-a983-4851-b016-dec64a92f131"));
    expect(second).not.toBe(first);
  });
});

describe("namespace builder", () => {
  test("shared tenant gets the shared node selector and no pool toleration", () => {
    const [namespace] = buildNamespaces(context({ namespaces: [{ name: "dev" }] }, ["acme-dev"]));
    const annotations = namespace!.metadata!.annotations!;
    expect(annotations["scheduler.alpha.kubernetes.io/node-selector"]).toBe("tenancy.dev/pool=general");
    expect(JSON.parse(annotations["scheduler.alpha.kubernetes.io/defaultTolerations"]!)).toEqual([]);
    expect(namespace!.metadata!.labels!["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    expect(namespace!.metadata!.labels!["tenancy.dev/tenant-id"]).toBe("t0123456789a");
  });

  test("dedicated pool sets selector, default toleration and whitelist", () => {
    const placement = placementOf(withDefaults({ placement: { pool: "dedicated-a" } }), "tenancy.dev/pool=general");
    expect(placement.nodeSelector).toBe("tenancy.dev/pool=dedicated-a");
    expect(placement.tolerations).toEqual([
      { key: "tenancy.dev/pool", operator: "Equal", value: "dedicated-a", effect: "NoSchedule" },
    ]);
  });

  test("tenant labels cannot override ownership labels", () => {
    const [namespace] = buildNamespaces(
      context({ namespaces: [{ name: "dev", labels: { team: "a" } }] }, ["acme-dev"]),
    );
    expect(namespace!.metadata!.labels!.team).toBe("a");
    expect(namespace!.metadata!.labels!["app.kubernetes.io/managed-by"]).toBe("tenant-operator");
  });
});

describe("rbac builder", () => {
  test("service account owner is bound by namespace and name", () => {
    const bindings = buildRoleBindings(
      context({ owners: [{ kind: "ServiceAccount", name: "ci", namespace: "tools", role: "edit" }] }),
    );
    expect(bindings).toHaveLength(2);
    expect(bindings[0]!.metadata!.name).toBe("tenant-edit");
    expect(bindings[0]!.subjects).toEqual([{ kind: "ServiceAccount", name: "ci", namespace: "tools" }]);
  });

  test("owners may get only their tenant and namespaces cluster-wide", () => {
    const [role] = buildClusterRbac(context({ owners: [{ kind: "User", name: "alice" }] }));
    expect(role!.rules).toEqual([
      { apiGroups: ["tenancy.dev"], resources: ["tenants"], resourceNames: ["acme"], verbs: ["get"] },
      { apiGroups: [""], resources: ["namespaces"], resourceNames: ["acme-dev", "acme-prod"], verbs: ["get"] },
    ]);
  });
});

describe("network policy builder", () => {
  test("operator policies pass the isolation evaluator", () => {
    const built = context({ network: { allowFromNamespaces: ["monitoring"], restrictEgress: true } });
    const policies = buildNetworkPolicies(built);
    expect(policies.map((policy) => `${policy.metadata!.namespace}/${policy.metadata!.name}`)).toEqual([
      "acme-dev/deny-other-tenants",
      "acme-dev/allow-platform",
      "acme-dev/restrict-egress",
      "acme-prod/deny-other-tenants",
      "acme-prod/allow-platform",
      "acme-prod/restrict-egress",
    ]);
    const result = evaluateIsolation({
      tenant: "acme",
      tenantId: "t0123456789a",
      tenantNamespaces: built.namespaces,
      platformNamespaces: ["monitoring"],
      policies,
      namespaces: [
        ...built.namespaces.map((name) => ({
          name,
          labels: { "tenancy.dev/tenant": "acme", "tenancy.dev/tenant-id": "t0123456789a" },
        })),
        { name: "monitoring", labels: { "kubernetes.io/metadata.name": "monitoring" } },
        { name: "globex-main", labels: { "tenancy.dev/tenant": "globex", "tenancy.dev/tenant-id": "t999" } },
      ],
    });
    expect(result.findings).toEqual([]);
    expect(result.isolated).toBe(true);
  });
});

describe("effective spec", () => {
  const tenant: Tenant = { metadata: { name: "acme" }, spec: { namespaces: [{ name: "dev" }], maxNamespaces: 2 } };
  const request = (name: string, spec: object, phase = "Approved", created = "2026-01-01T00:00:00Z"): never =>
    ({ metadata: { name, namespace: "acme-dev", creationTimestamp: created }, spec, status: { phase } }) as never;

  test("approved requests overlay the spec in creation order", () => {
    const result = effectiveSpec(tenant, [
      request("b-resume", { type: "Resume" }, "Approved", "2026-01-02T00:00:00Z"),
      request("a-suspend", { type: "Suspend" }, "Approved", "2026-01-01T00:00:00Z"),
      request("c-ns", { type: "Namespace", namespaceName: "qa" }),
      request("d-pending", { type: "DedicatedInstance" }, "Pending"),
    ]);
    expect(result.spec.suspended).toBe(false);
    expect(result.spec.namespaces.map((namespace) => namespace.name)).toEqual(["dev", "qa"]);
    expect(result.spec.app.mode).toBe("Shared");
    expect(result.applied).toEqual(["acme-dev/a-suspend", "acme-dev/c-ns", "acme-dev/b-resume"]);
  });

  test("namespace beyond maxNamespaces is rejected with a reason", () => {
    const result = effectiveSpec(tenant, [
      request("one", { type: "Namespace", namespaceName: "qa" }),
      request("two", { type: "Namespace", namespaceName: "staging" }, "Approved", "2026-01-03T00:00:00Z"),
    ]);
    expect(result.spec.namespaces.map((namespace) => namespace.name)).toEqual(["dev", "qa"]);
    expect(result.rejected).toEqual([
      { request: "acme-dev/two", reason: "the tenant already has maxNamespaces (2) namespaces" },
    ]);
  });

  test("cancelled request gives its grant back", () => {
    const cancelled = request("ns", { type: "Namespace", namespaceName: "qa", cancelled: true });
    expect(effectiveSpec(tenant, [cancelled]).spec.namespaces.map((namespace) => namespace.name)).toEqual(["dev"]);
  });
});
