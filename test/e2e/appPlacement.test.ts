// Dedicated nodes: a tenant with placement.pool runs its pods only on that pool, and an owner whom RBAC lets edit
// pods and its namespaces still cannot move its pods off the pool or onto another one. Admission rejects each
// attempt with its reason.
import * as k8s from "@kubernetes/client-node";
import { eventually, rejectionMessage, sharedCluster, uniqueName } from "./support/cluster.js";
import {
  applyTenant,
  condition,
  deleteTenant,
  restrictedPodTemplate,
  waitForCondition,
  waitForReady,
} from "./support/tenants.js";

const cluster = sharedCluster();
const admin = cluster.adminKubeConfig();
const adminCore = admin.makeApiClient(k8s.CoreV1Api);
const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
const mergePatch = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);

const tenant = uniqueName("pool-a");
const sharedTenant = uniqueName("pool-none");
const owner = uniqueName("pool-owner");
const namespace = `${tenant}-dev`;
const roleName = `e2e-${owner}-namespace-editor`;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;

/** Builds a restricted pod with extra spec fields. Its requests make it Burstable, as most real pods are. */
function pod(name: string, extra: Partial<k8s.V1PodSpec> = {}): k8s.V1Pod {
  const template = restrictedPodTemplate(name, { requests: { cpu: "10m", memory: "16Mi" } });
  return { metadata: { name, labels: template.metadata!.labels }, spec: { ...template.spec!, ...extra } };
}

beforeAll(async () => {
  await applyTenant(cluster, tenant, {
    owners: [{ kind: "User", name: owner }],
    namespaces: [{ name: "dev" }],
    placement: { pool: "dedicated-a" },
  });
  await applyTenant(cluster, sharedTenant, { owners: [{ kind: "User", name: owner }], namespaces: [{ name: "dev" }] });
  await waitForReady(cluster, tenant);
  await waitForReady(cluster, sharedTenant);

  // More than the tenant roles give: update and patch its own namespace.
  await rbac.createClusterRole({
    body: {
      metadata: { name: roleName },
      rules: [
        { apiGroups: [""], resources: ["namespaces"], resourceNames: [namespace], verbs: ["get", "update", "patch"] },
        { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "create", "update", "patch", "delete"] },
      ],
    },
  });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: roleName },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: roleName },
      subjects: [{ kind: "User", name: owner, apiGroup: "rbac.authorization.k8s.io" }],
    },
  });
  const { kubeConfig } = await cluster.mintUser(owner);
  core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  apps = kubeConfig.makeApiClient(k8s.AppsV1Api);
});

afterAll(async () => {
  await rbac.deleteClusterRoleBinding({ name: roleName }).catch(() => undefined);
  await rbac.deleteClusterRole({ name: roleName }).catch(() => undefined);
  await deleteTenant(cluster, tenant);
  await deleteTenant(cluster, sharedTenant);
});

describe("dedicated nodes", () => {
  test("tenant pods land only on its pool", async () => {
    await eventually("owner creates a Deployment", async () =>
      apps.createNamespacedDeployment({
        namespace,
        body: {
          metadata: { name: "web" },
          spec: {
            replicas: 4,
            selector: { matchLabels: { app: "web" } },
            template: restrictedPodTemplate("web", { requests: { cpu: "10m", memory: "16Mi" } }),
          },
        },
      }),
    );

    const nodes = await eventually("4 pods scheduled", async () => {
      const pods = (await adminCore.listNamespacedPod({ namespace, labelSelector: "app=web" })).items;
      const scheduled = pods.map((each) => each.spec?.nodeName).filter(Boolean);
      return scheduled.length === 4 ? scheduled : undefined;
    });
    expect(new Set(nodes)).toEqual(new Set(["dedicated-a-1"]));
    const sample = (await adminCore.listNamespacedPod({ namespace, labelSelector: "app=web" })).items[0]!;
    expect(sample.spec!.nodeSelector).toEqual({ "tenancy.dev/pool": "dedicated-a" });
    expect(sample.spec!.tolerations).toContainEqual({
      key: "tenancy.dev/pool",
      operator: "Equal",
      value: "dedicated-a",
      effect: "NoSchedule",
    });
  });

  test("owner cannot change the namespace placement", async () => {
    const selector = await rejectionMessage(
      core.patchNamespace(
        {
          name: namespace,
          body: {
            metadata: {
              annotations: { "scheduler.alpha.kubernetes.io/node-selector": "tenancy.dev/pool=dedicated-b" },
            },
          },
        },
        mergePatch,
      ),
    );
    expect(selector).toContain(
      "namespace annotations scheduler.alpha.kubernetes.io/node-selector are set by tenant-operator and cannot be changed",
    );

    const whitelist = await rejectionMessage(
      core.patchNamespace(
        {
          name: namespace,
          body: { metadata: { annotations: { "scheduler.alpha.kubernetes.io/tolerationsWhitelist": null } } },
        },
        mergePatch,
      ),
    );
    expect(whitelist).toContain(
      "namespace annotations scheduler.alpha.kubernetes.io/tolerationsWhitelist are set by tenant-operator",
    );
  });

  test("owner cannot move pods to another pool", async () => {
    const otherPool = await rejectionMessage(
      core.createNamespacedPod({
        namespace,
        body: pod("to-b", { nodeSelector: { "tenancy.dev/pool": "dedicated-b" } }),
      }),
    );
    expect(otherPool).toContain("pod node label selector conflicts with its namespace node label selector");

    const general = await rejectionMessage(
      core.createNamespacedPod({
        namespace,
        body: pod("to-general", { nodeSelector: { "tenancy.dev/pool": "general" } }),
      }),
    );
    expect(general).toContain("pod node label selector conflicts with its namespace node label selector");

    const toleration = await rejectionMessage(
      core.createNamespacedPod({
        namespace,
        body: pod("tolerate-b", {
          tolerations: [{ key: "tenancy.dev/pool", operator: "Equal", value: "dedicated-b", effect: "NoSchedule" }],
        }),
      }),
    );
    expect(toleration).toContain(
      "pod tolerations (possibly merged with namespace default tolerations) conflict with its namespace whitelist",
    );

    const byName = await rejectionMessage(
      core.createNamespacedPod({ namespace, body: pod("by-name", { nodeName: "dedicated-b-1" }) }),
    );
    expect(byName).toContain("spec.nodeName is not allowed in tenant namespaces");
  });

  test("owner cannot add a toleration to a running pod", async () => {
    const running = await eventually("a running web pod", async () =>
      (await core.listNamespacedPod({ namespace, labelSelector: "app=web" })).items.find((each) => each.spec?.nodeName),
    );
    const tolerations = [
      ...(running.spec!.tolerations ?? []),
      { key: "tenancy.dev/pool", operator: "Equal", value: "dedicated-b", effect: "NoSchedule" },
    ];

    const message = await rejectionMessage(
      core.patchNamespacedPod(
        { name: running.metadata!.name!, namespace, body: { spec: { tolerations } } },
        mergePatch,
      ),
    );

    expect(message).toContain("conflict with its namespace whitelist");
  });

  test("pod asking for another pool by affinity is never scheduled", async () => {
    await core.createNamespacedPod({
      namespace,
      body: pod("affine-b", {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: "tenancy.dev/pool", operator: "In", values: ["dedicated-b"] }] },
              ],
            },
          },
        },
      }),
    });

    const scheduled = await eventually("scheduler reports the pod unschedulable", async () => {
      const current = await adminCore.readNamespacedPod({ name: "affine-b", namespace });
      const condition = current.status?.conditions?.find((each) => each.type === "PodScheduled");
      return condition?.status === "False" ? current : undefined;
    });
    expect(scheduled.spec!.nodeName).toBeUndefined();
    expect(scheduled.status!.conditions!.find((each) => each.type === "PodScheduled")!.reason).toBe("Unschedulable");
  });

  test("shared tenant cannot tolerate the pool", async () => {
    const message = await eventually("owner's pod in the shared tenant rejected", async () => {
      const text = await rejectionMessage(
        core.createNamespacedPod({
          namespace: `${sharedTenant}-dev`,
          body: pod("intruder", {
            nodeSelector: { "tenancy.dev/pool": "dedicated-a" },
            tolerations: [{ key: "tenancy.dev/pool", operator: "Equal", value: "dedicated-a", effect: "NoSchedule" }],
          }),
        }),
      );
      return text.includes("forbidden: User") ? undefined : text;
    });

    expect(message).toContain("pod node label selector conflicts with its namespace node label selector");
  });
});

describe("pool exclusivity", () => {
  test("a second tenant cannot take a dedicated pool", async () => {
    const first = uniqueName("pool-first");
    const second = uniqueName("pool-second");
    await applyTenant(cluster, first, { namespaces: [{ name: "dev" }], placement: { pool: "dedicated-e" } });
    await waitForReady(cluster, first);
    await applyTenant(cluster, second, { namespaces: [{ name: "dev" }], placement: { pool: "dedicated-e" } });

    const refused = await waitForCondition(cluster, second, "PlacementReady", "False");
    expect(condition(refused, "PlacementReady")!.message).toBe(
      `node pool "dedicated-e" is dedicated to tenant "${first}"; choose another pool or ask a platform engineer`,
    );
    const secondNamespace = await adminCore.readNamespace({ name: `${second}-dev` });
    expect(secondNamespace.metadata!.annotations!["scheduler.alpha.kubernetes.io/node-selector"]).toBe(
      "tenancy.dev/pool=general",
    );
    const firstNamespace = await adminCore.readNamespace({ name: `${first}-dev` });
    expect(firstNamespace.metadata!.annotations!["scheduler.alpha.kubernetes.io/node-selector"]).toBe(
      "tenancy.dev/pool=dedicated-e",
    );

    // Once the first tenant is gone, the pool is free for the second.
    await deleteTenant(cluster, first);
    await waitForCondition(cluster, second, "PlacementReady", "True");
    const moved = await adminCore.readNamespace({ name: `${second}-dev` });
    expect(moved.metadata!.annotations!["scheduler.alpha.kubernetes.io/node-selector"]).toBe(
      "tenancy.dev/pool=dedicated-e",
    );
    await deleteTenant(cluster, second);
  });
});
