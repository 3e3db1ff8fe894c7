// The TenantRequest controller on the real test cluster, driven with kubectl as tenant owners and platform
// engineers: the selfService policy approves what it allows, platform engineers decide the rest, and the Tenant
// controller provisions and takes back grants.
import * as k8s from "@kubernetes/client-node";
import { eventually, sharedCluster, statusOf, uniqueName } from "./support/cluster.js";
import {
  approveWithKubectl,
  createPlatformEngineer,
  createRequestAs,
  kubectlRejection,
  readRequest,
  requestManifest,
  waitForPhase,
  type PlatformEngineer,
} from "./support/selfservice.js";
import { applyTenant, deleteTenant, readTenant, waitForReady } from "./support/tenants.js";
import type { TenantSpec } from "../../src/api/generated.js";

const cluster = sharedCluster();
const admin = cluster.adminKubeConfig();
const core = admin.makeApiClient(k8s.CoreV1Api);
const networking = admin.makeApiClient(k8s.NetworkingV1Api);
const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);

let engineer: PlatformEngineer;
const tenants: string[] = [];

/** Applies a tenant owned by a fresh user, waits until it is Ready, and returns the owner's kubeconfig. */
async function ownedTenant(
  prefix: string,
  spec: TenantSpec,
): Promise<{ name: string; owner: string; kubeconfig: string }> {
  const name = uniqueName(prefix);
  const owner = uniqueName(`${prefix}-owner`);
  await applyTenant(cluster, name, { owners: [{ kind: "User", name: owner }], namespaces: [{ name: "dev" }], ...spec });
  tenants.push(name);
  await waitForReady(cluster, name);
  const { kubeconfigPath } = await cluster.mintUser(owner);
  return { name, owner, kubeconfig: kubeconfigPath };
}

/** Creates a request as the owner, retrying while RBAC has not yet seen the owner's fresh RoleBinding. */
async function ask(
  tenant: { name: string; owner: string; kubeconfig: string },
  name: string,
  spec: Parameters<typeof createRequestAs>[5],
): Promise<void> {
  await eventually(`owner creates ${name}`, async () => {
    await createRequestAs(cluster, tenant.kubeconfig, tenant.owner, `${tenant.name}-dev`, name, spec);
    return true;
  });
}

beforeAll(async () => {
  engineer = await createPlatformEngineer(cluster);
});

afterAll(async () => {
  await engineer.remove();
  for (const name of tenants) await deleteTenant(cluster, name);
});

describe("TenantRequest controller", () => {
  test("request outside a tenant fails naming the fix", async () => {
    const namespace = uniqueName("plain");
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await cluster.kubectl(["create", "-f", "-"], undefined, requestManifest(namespace, "lost", { type: "Suspend" }));

    const request = await waitForPhase(cluster, namespace, "lost", "Failed");

    expect(request.status!.reason).toBe("NotATenantNamespace");
    expect(request.status!.message).toBe(
      `namespace "${namespace}" does not belong to a tenant; create the TenantRequest in one of the tenant's ` +
        "namespaces (listed in the Tenant's status.namespaces)",
    );
    await core.deleteNamespace({ name: namespace });
  });

  test("namespace within policy is provisioned and isolated", async () => {
    const tenant = await ownedTenant("rq-ns", { maxNamespaces: 4, selfService: { maxExtraNamespaces: 1 } });
    const tenantId = (await readTenant(cluster, tenant.name))!.status!.tenantId!;

    await ask(tenant, "more-qa", { type: "Namespace", namespaceName: "qa" });
    const request = await waitForPhase(cluster, `${tenant.name}-dev`, "more-qa", "Provisioned");

    expect(request.status!.tenant).toBe(tenant.name);
    expect(request.status!.decidedBy).toBe("selfService policy");
    expect(request.status!.reason).toBe("Provisioned");
    expect(request.status!.provisionedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(request.spec.requestedBy!.username).toBe(tenant.owner);
    const namespace = await core.readNamespace({ name: `${tenant.name}-qa` });
    expect(namespace.metadata!.labels!["tenancy.dev/tenant-id"]).toBe(tenantId);
    const deny = await networking.readNamespacedNetworkPolicy({
      name: "deny-other-tenants",
      namespace: `${tenant.name}-qa`,
    });
    expect(deny.spec!.ingress![0]!._from![0]!.namespaceSelector!.matchLabels).toEqual({
      "tenancy.dev/tenant-id": tenantId,
    });
    const binding = await rbac.readNamespacedRoleBinding({ name: "tenant-admin", namespace: `${tenant.name}-qa` });
    expect(binding.subjects).toEqual([{ kind: "User", name: tenant.owner, apiGroup: "rbac.authorization.k8s.io" }]);
    const status = (await readTenant(cluster, tenant.name))!.status!;
    expect(status.requests).toEqual([`${tenant.name}-dev/more-qa`]);
  });

  test("namespace above policy waits for a platform engineer", async () => {
    const tenant = await ownedTenant("rq-wait", { maxNamespaces: 4, selfService: { maxExtraNamespaces: 0 } });
    const namespace = `${tenant.name}-dev`;

    await ask(tenant, "more-perf", { type: "Namespace", namespaceName: "perf" });
    const pending = await waitForPhase(cluster, namespace, "more-perf", "Pending");
    expect(pending.status!.reason).toBe("AwaitingApproval");
    expect(pending.status!.message).toContain("selfService.maxExtraNamespaces 0");
    expect(await statusOf(core.readNamespace({ name: `${tenant.name}-perf` }))).toBe(404);

    // The owner cannot approve its own request; the admission policy names the rule.
    const rejection = await kubectlRejection(
      approveWithKubectl(cluster, tenant.kubeconfig, namespace, "more-perf", {
        decision: "Approved",
        by: tenant.owner,
      }),
    );
    expect(rejection).toContain("only platform engineers (allowed to approve tenantrequests) can set spec.approval");

    // A platform engineer approves in its own name.
    await approveWithKubectl(cluster, engineer.kubeconfigPath, namespace, "more-perf", {
      decision: "Approved",
      by: engineer.username,
      reason: "capacity planned",
    });
    const provisioned = await waitForPhase(cluster, namespace, "more-perf", "Provisioned");
    expect(provisioned.status!.decidedBy).toBe(engineer.username);
    expect(provisioned.status!.decidedAt).toMatch(/Z$/);
    expect((await core.readNamespace({ name: `${tenant.name}-perf` })).metadata!.labels!["tenancy.dev/tenant"]).toBe(
      tenant.name,
    );
  });

  test("engineer cannot approve in another name", async () => {
    const tenant = await ownedTenant("rq-name", { selfService: { dedicatedInstance: false } });
    await ask(tenant, "dedicated", { type: "DedicatedInstance" });
    await waitForPhase(cluster, `${tenant.name}-dev`, "dedicated", "Pending");

    const rejection = await kubectlRejection(
      approveWithKubectl(cluster, engineer.kubeconfigPath, `${tenant.name}-dev`, "dedicated", {
        decision: "Approved",
        by: "someone-else",
      }),
    );

    expect(rejection).toContain(`spec.approval.by must be "${engineer.username}", the user who decides`);
  });

  test("approval by a user who may not approve stays pending", async () => {
    const tenant = await ownedTenant("rq-sar", { selfService: { dedicatedNodes: false } });
    const namespace = `${tenant.name}-dev`;
    await ask(tenant, "nodes", { type: "DedicatedNodes", pool: "dedicated-d" });
    await waitForPhase(cluster, namespace, "nodes", "Pending");

    // system:masters bypasses the admission policy, so only the controller's own check can reject it.
    await approveWithKubectl(cluster, cluster.info.adminKubeconfig, namespace, "nodes", {
      decision: "Approved",
      by: tenant.owner,
    });

    const request = await eventually("approver rejected", async () => {
      const current = await readRequest(cluster, namespace, "nodes");
      return current.status?.reason === "ApproverNotAuthorized" ? current : undefined;
    });
    expect(request.status!.phase).toBe("Pending");
    expect(request.status!.message).toContain(`"${tenant.owner}" set spec.approval but is not allowed to approve`);
    expect(request.status!.decidedBy).toBeUndefined();
  });

  test("requests beyond maxPendingRequests are denied", async () => {
    const tenant = await ownedTenant("rq-many", { selfService: { maxPendingRequests: 2 } });
    const namespace = `${tenant.name}-dev`;

    for (const name of ["first", "second", "third"]) {
      await ask(tenant, name, { type: "DedicatedInstance" });
      await eventually(`${name} decided`, async () => (await readRequest(cluster, namespace, name)).status?.phase);
    }

    expect((await readRequest(cluster, namespace, "first")).status!.phase).toBe("Pending");
    expect((await readRequest(cluster, namespace, "second")).status!.phase).toBe("Pending");
    const third = await readRequest(cluster, namespace, "third");
    expect(third.status!.phase).toBe("Denied");
    expect(third.status!.reason).toBe("TooManyPending");
    expect(third.status!.message).toContain("(selfService.maxPendingRequests 2)");
  });

  test("cancel with deletionPolicy Delete deletes the namespace", async () => {
    const tenant = await ownedTenant("rq-del", {
      maxNamespaces: 3,
      selfService: { maxExtraNamespaces: 1 },
      deletionPolicy: "Delete",
    });
    const namespace = `${tenant.name}-dev`;
    await ask(tenant, "extra", { type: "Namespace", namespaceName: "tmp" });
    await waitForPhase(cluster, namespace, "extra", "Provisioned");

    await cluster.kubectl(
      ["patch", "tenantrequest", "extra", "-n", namespace, "--type=merge", "-p", '{"spec":{"cancelled":true}}'],
      tenant.kubeconfig,
    );

    const cancelled = await waitForPhase(cluster, namespace, "extra", "Cancelled");
    expect(cancelled.status!.message).toBe("cancelled; the Tenant takes its grant back");
    await eventually("namespace deleted", async () => {
      const gone = await core.readNamespace({ name: `${tenant.name}-tmp` }).catch(() => undefined);
      return gone === undefined || gone.metadata?.deletionTimestamp !== undefined;
    });
    await eventually("grant gone from the tenant", async () => {
      const status = (await readTenant(cluster, tenant.name))?.status;
      return status?.requests?.length === 0 && status.namespaces?.length === 1;
    });
  });

  test("cancel with deletionPolicy Retain keeps the namespace", async () => {
    const tenant = await ownedTenant("rq-ret", { maxNamespaces: 3, selfService: { maxExtraNamespaces: 1 } });
    const namespace = `${tenant.name}-dev`;
    await ask(tenant, "extra", { type: "Namespace", namespaceName: "keep" });
    await waitForPhase(cluster, namespace, "extra", "Provisioned");

    await cluster.kubectl(["delete", "tenantrequest", "extra", "-n", namespace], tenant.kubeconfig);

    await eventually("grant gone from the tenant", async () => {
      const status = (await readTenant(cluster, tenant.name))?.status;
      return status?.requests?.length === 0 && status.namespaces?.map((each) => each.name).join() === namespace;
    });
    const kept = await core.readNamespace({ name: `${tenant.name}-keep` });
    expect(kept.metadata!.deletionTimestamp).toBeUndefined();
  });

  test("removing a spec namespace fails with the tenant's reason", async () => {
    const tenant = await ownedTenant("rq-rm", {});

    await ask(tenant, "drop-dev", { type: "RemoveNamespace", namespaceName: "dev" });
    const request = await waitForPhase(cluster, `${tenant.name}-dev`, "drop-dev", "Failed");

    expect(request.status!.reason).toBe("GrantRejected");
    expect(request.status!.message).toBe(
      `Tenant "${tenant.name}" cannot apply this grant: namespace "dev" is part of the Tenant spec; only a ` +
        "platform engineer can remove it there",
    );
    expect((await core.readNamespace({ name: `${tenant.name}-dev` })).metadata!.deletionTimestamp).toBeUndefined();
  });

  test("quota within the ceiling is provisioned", async () => {
    const tenant = await ownedTenant("rq-quota", {
      quota: { total: { "requests.cpu": "2" } },
      selfService: { quotaCeiling: { "requests.cpu": "6" } },
    });

    await ask(tenant, "cpu", { type: "Quota", quota: { scope: "Total", hard: { "requests.cpu": "6" } } });
    await waitForPhase(cluster, `${tenant.name}-dev`, "cpu", "Provisioned");

    const share = await core.readNamespacedResourceQuota({ name: "tenant-total", namespace: `${tenant.name}-dev` });
    expect(share.spec!.hard!["requests.cpu"]).toBe("6");
    expect((await readTenant(cluster, tenant.name))!.status!.usage!["requests.cpu"]!.hard).toBe("6");
  });

  test("approving twice provisions once", async () => {
    const tenant = await ownedTenant("rq-twice", { maxNamespaces: 3 });
    const namespace = `${tenant.name}-dev`;
    await ask(tenant, "twice", { type: "Namespace", namespaceName: "two" });
    await waitForPhase(cluster, namespace, "twice", "Pending");

    const approval = { decision: "Approved" as const, by: engineer.username };
    await approveWithKubectl(cluster, engineer.kubeconfigPath, namespace, "twice", approval);
    const first = await waitForPhase(cluster, namespace, "twice", "Provisioned");
    const created = await core.readNamespace({ name: `${tenant.name}-two` });
    await approveWithKubectl(cluster, engineer.kubeconfigPath, namespace, "twice", { ...approval, reason: "again" });

    // The second decision is only recorded; the grant, its namespace and provisionedAt stay as they were.
    const second = await eventually("second approval seen", async () => {
      const current = await readRequest(cluster, namespace, "twice");
      return current.status?.observedGeneration === current.metadata?.generation ? current : undefined;
    });
    expect(second.status!.phase).toBe("Provisioned");
    expect(second.status!.provisionedAt).toBe(first.status!.provisionedAt);
    expect((await core.readNamespace({ name: `${tenant.name}-two` })).metadata!.uid).toBe(created.metadata!.uid);
  });
});
