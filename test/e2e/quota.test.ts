// The tenant-wide quota: split across the tenant's namespaces so their sum never exceeds the total, while a
// namespace that needs more receives what the others leave unused.
import * as k8s from "@kubernetes/client-node";
import { eventually, sharedCluster, uniqueName } from "./support/cluster.js";
import { applyTenant, deleteTenant, readTenant, restrictedPodTemplate, waitForReady } from "./support/tenants.js";

const cluster = sharedCluster();
const admin = cluster.adminKubeConfig();
const core = admin.makeApiClient(k8s.CoreV1Api);
const apps = admin.makeApiClient(k8s.AppsV1Api);

const total = 6;

async function runningPods(namespaces: string[]): Promise<number> {
  const lists = await Promise.all(namespaces.map((namespace) => core.listNamespacedPod({ namespace })));
  return lists.flatMap((list) => list.items).filter((pod) => !pod.metadata?.deletionTimestamp).length;
}

async function shares(namespaces: string[]): Promise<number[]> {
  const quotas = await Promise.all(
    namespaces.map((namespace) => core.readNamespacedResourceQuota({ name: "tenant-total", namespace })),
  );
  return quotas.map((quota) => Number(quota.spec!.hard!.pods));
}

async function scale(namespace: string, replicas: number): Promise<void> {
  await apps.patchNamespacedDeploymentScale(
    { name: "work", namespace, body: { spec: { replicas } } },
    k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
  );
}

describe("tenant total quota", () => {
  const name = uniqueName("quota");
  const namespaces = [`${name}-a`, `${name}-b`];

  beforeAll(async () => {
    await applyTenant(cluster, name, {
      owners: [{ kind: "User", name: "frank" }],
      namespaces: [{ name: "a" }, { name: "b" }],
      quota: { total: { pods: String(total) } },
    });
    await waitForReady(cluster, name);
    for (const namespace of namespaces) {
      await apps.createNamespacedDeployment({
        namespace,
        body: {
          metadata: { name: "work" },
          spec: { replicas: 0, selector: { matchLabels: { app: "work" } }, template: restrictedPodTemplate("work") },
        },
      });
    }
  });

  afterAll(async () => {
    await deleteTenant(cluster, name);
  });

  test("simultaneous scale-ups never exceed the tenant total", async () => {
    // Sample the shares and the pods while both namespaces race for the quota.
    const sums: number[] = [];
    const podCounts: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        sums.push((await shares(namespaces)).reduce((a, b) => a + b, 0));
        podCounts.push(await runningPods(namespaces));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    await Promise.all([scale(namespaces[0]!, 5), scale(namespaces[1]!, 5)]);
    await eventually("tenant total used up", async () => (await runningPods(namespaces)) === total, 120_000);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    sampling = false;
    await sampler;

    expect(Math.max(...sums)).toBeLessThanOrEqual(total);
    expect(Math.max(...podCounts)).toBeLessThanOrEqual(total);
    expect(await runningPods(namespaces)).toBe(total);
    const tenant = await eventually("usage reported", async () => {
      const current = await readTenant(cluster, name);
      return current?.status?.usage?.pods?.used === String(total) ? current : undefined;
    });
    expect(tenant.status!.usage!.pods).toEqual({ used: String(total), hard: String(total) });
  });

  test("a namespace grows into the share another leaves unused", async () => {
    await scale(namespaces[1]!, 0);
    await scale(namespaces[0]!, 5);

    await eventually("namespace a runs 5 pods", async () => (await runningPods([namespaces[0]!])) === 5, 180_000);
    expect(await runningPods([namespaces[1]!])).toBe(0);
    const [shareA, shareB] = await shares(namespaces);
    expect(shareA! + shareB!).toBeLessThanOrEqual(total);
    expect(shareA).toBeGreaterThanOrEqual(5);
  });
});
